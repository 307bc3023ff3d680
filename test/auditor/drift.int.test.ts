import type { AddressInfo } from "node:net";
import type { Router } from "express";
import { describe, expect, it } from "vitest";
import { FIELD_MANAGER } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { secretValueDigest } from "../../src/auditor/journal/record.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { gitSyncWithInventory, startAuditor } from "./harness.js";

const SECRET_OLD = "s3cr3t-from-git-7f1c";
const SECRET_NEW = "hand-typed-password-9a2e";

function configMap(namespace: string, value: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "web-config", namespace },
    data: { LOG_LEVEL: value },
  };
}

function secret(namespace: string, value: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db-creds", namespace },
    stringData: { password: value },
  };
}

describe("auditor against the real API server", () => {
  it("records an unattributed edit by an exempt admin with its diff, then its heal", async () => {
    const ns = await testNamespace("audit");
    const reconciler = clientAs("reconciler");
    const admin = clientAs("admin");
    await reconciler.apply(configMap(ns, "info"), { fieldManager: FIELD_MANAGER });
    await reconciler.apply(secret(ns, SECRET_OLD), { fieldManager: FIELD_MANAGER });
    await gitSyncWithInventory(ns, [configMap(ns, "info"), secret(ns, SECRET_OLD)]);
    const auditor = await startAuditor();
    const driftsIn = (namespace: string) =>
      auditor.records(namespace).filter((r) => r.type === "drift-detected");

    const live = await admin.get<KubeObject>({
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: ns,
      name: "web-config",
    });
    await admin.replace({ ...live!, data: { LOG_LEVEL: "debug" } });
    const liveSecret = await admin.get<KubeObject>({
      apiVersion: "v1",
      kind: "Secret",
      namespace: ns,
      name: "db-creds",
    });
    await admin.replace({
      ...liveSecret!,
      data: { password: Buffer.from(SECRET_NEW).toString("base64") },
    });

    await eventually("both drifts to be journaled", () => driftsIn(ns).length === 2);
    const drifts = driftsIn(ns);
    const cm = drifts.find((r) => r.object?.kind === "ConfigMap");
    expect(cm?.user).toBeUndefined();
    expect(cm?.diff).toEqual([
      { path: "/data/LOG_LEVEL", op: "replace", from: "info", to: "debug" },
    ]);
    expect(cm?.gitSync).toEqual({ namespace: ns, name: "app" });
    expect(cm?.revision).toMatch(/^main@sha1:/);
    const sec = drifts.find((r) => r.object?.kind === "Secret");
    expect(sec?.diff).toEqual([
      {
        path: "/data/password",
        op: "replace",
        from: secretValueDigest(SECRET_OLD),
        to: secretValueDigest(SECRET_NEW),
      },
    ]);

    await reconciler.apply(configMap(ns, "info"), { fieldManager: FIELD_MANAGER });
    await eventually("the heal to be journaled", () =>
      auditor.records(ns).some((r) => r.type === "drift-healed"),
    );
    const healed = auditor.records(ns).find((r) => r.type === "drift-healed");
    expect(healed?.message).toMatch(/after \d+\.\d{3} s/);
    const metrics = await auditor.metrics.text();
    expect(metrics).toContain(
      `gitops_guard_drift_unattributed_total{kind="ConfigMap",namespace="${ns}"} 1`,
    );
    expect(metrics).toMatch(/gitops_guard_drift_to_heal_seconds_count\{kind="ConfigMap"\} 1/);

    const res = await fetchJournal(auditor.component.routes(), `/api/v1/journal?namespace=${ns}`);
    expect(res.items.length).toBeGreaterThanOrEqual(3);
    const everything = [
      auditor.log.raw(),
      JSON.stringify(auditor.records()),
      metrics,
      JSON.stringify(res),
    ].join("\n");
    for (const value of [SECRET_OLD, SECRET_NEW]) {
      expect(everything).not.toContain(value);
      expect(everything).not.toContain(Buffer.from(value).toString("base64"));
    }
  });

  it("records a drift the reconciler healed before attribution could wait it out", async () => {
    const ns = await testNamespace("quick");
    const reconciler = clientAs("reconciler");
    const admin = clientAs("admin");
    await reconciler.apply(configMap(ns, "info"), { fieldManager: FIELD_MANAGER });
    await gitSyncWithInventory(ns, [configMap(ns, "info")]);
    const auditor = await startAuditor({ attributionGraceMs: 5000 });
    const ref = { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "web-config" };
    const live = await admin.get<KubeObject>(ref);
    if (live === undefined) throw new Error("no ConfigMap");
    await admin.replace({ ...live, data: { LOG_LEVEL: "trace" } });
    await eventually("the auditor to see the edit", async () =>
      (await auditor.metrics.text()).includes('controller="auditor",outcome="requeue"'),
    );
    await reconciler.apply(configMap(ns, "info"), { fieldManager: FIELD_MANAGER });
    await eventually("drift and heal", () => auditor.records(ns).length === 2);
    expect(auditor.records(ns).map((r) => r.type)).toEqual(["drift-detected", "drift-healed"]);
    expect(auditor.records(ns)[0]?.diff).toEqual([
      { path: "/data/LOG_LEVEL", op: "replace", from: "info", to: "trace" },
    ]);
  });
});

async function fetchJournal(router: Router, path: string): Promise<{ items: unknown[] }> {
  const express = (await import("express")).default;
  const app = express();
  app.use(router);
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${String(port)}${path}`);
    return (await res.json()) as { items: unknown[] };
  } finally {
    server.close();
  }
}
