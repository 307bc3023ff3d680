import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifySignature,
} from "../../src/auditor/alerts/signature.js";
import { FIELD_MANAGER } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { startAuditor } from "./harness.js";

const HMAC_KEY = "hmac-key-never-logged-5d1e";
const SYSTEM_NS = "gitops-guard-system";

interface Delivery {
  readonly body: string;
  readonly valid: boolean;
}

async function hmacSink(): Promise<{ url: string; deliveries: Delivery[] }> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const timestampSec = Number(req.headers[TIMESTAMP_HEADER]);
      const valid = verifySignature({
        body,
        key: HMAC_KEY,
        signature: String(req.headers[SIGNATURE_HEADER]),
        timestampSec,
        nowSec: Math.floor(Date.now() / 1000),
      });
      deliveries.push({ body, valid });
      res.writeHead(valid ? 200 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  );
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hook`,
    deliveries,
  };
}

/** The Event the admission webhook writes when it admits a break-glass change. */
function breakGlassEvent(ns: string, name: string, expires: string): KubeObject {
  return {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: {
      generateName: `${name}-`,
      namespace: ns,
      labels: { "app.kubernetes.io/managed-by": "gitops-guard" },
      annotations: {
        "gitops-guard.io/user": "bob",
        "gitops-guard.io/groups": '["incident-responders","system:authenticated"]',
        "gitops-guard.io/decision": "BreakGlass",
        "gitops-guard.io/operation": "UPDATE",
        "gitops-guard.io/changed-fields": '["/data/LOG_LEVEL"]',
        "gitops-guard.io/break-glass-reason": "INC-5150 payment outage",
        "gitops-guard.io/break-glass-expires": expires,
      },
    },
    eventTime: new Date().toISOString().replace("Z", "000Z"),
    reportingController: "gitops-guard.io/admission",
    reportingInstance: "webhook-0",
    action: "Admit",
    reason: "BreakGlass",
    type: "Warning",
    regarding: { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name },
    note: "BreakGlass: bob",
  };
}

describe("auditor alerts and admission Events", () => {
  it("records bob's break-glass from the webhook's Event and alerts a signed webhook", async () => {
    const ns = await testNamespace("alerts");
    const admin = clientAs("admin");
    const sink = await hmacSink();
    const secretName = `alert-hmac-${ns}`;
    await admin.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: secretName, namespace: SYSTEM_NS },
      stringData: { "hmac-key": HMAC_KEY },
    });
    const policy = {
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GuardPolicy",
      metadata: { name: `audit-${ns}` },
      spec: {
        mode: "Audit",
        match: { resources: [{ apiGroups: [""], kinds: ["ConfigMap"] }] },
        alerts: [{ type: "webhook", url: sink.url, secretRef: { name: secretName } }],
      },
    };
    await admin.create(policy);
    onTestFinished(async () => {
      await admin.delete({ ...policy, name: policy.metadata.name });
      await admin.delete({
        apiVersion: "v1",
        kind: "Secret",
        namespace: SYSTEM_NS,
        name: secretName,
      });
    });
    await clientAs("reconciler").apply(
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "pay", namespace: ns },
        data: { LOG_LEVEL: "info" },
      },
      { fieldManager: FIELD_MANAGER },
    );
    const auditor = await startAuditor();

    const expires = new Date(Date.now() + 3_600_000).toISOString();
    await admin.create(breakGlassEvent(ns, "pay", expires));
    const bob = clientAs("bob");
    const live = await bob.get<KubeObject>({
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: ns,
      name: "pay",
    });
    await bob.replace({
      ...live!,
      metadata: {
        ...live!.metadata,
        annotations: {
          "gitops-guard.io/break-glass": "INC-5150 payment outage",
          "gitops-guard.io/break-glass-expires": expires,
        },
      },
      data: { LOG_LEVEL: "debug" },
    });

    await eventually("the break-glass record", () =>
      auditor.records(ns).some((r) => r.type === "break-glass"),
    );
    expect(auditor.records(ns).find((r) => r.type === "break-glass")).toMatchObject({
      object: { kind: "ConfigMap", namespace: ns, name: "pay" },
      user: { username: "bob", groups: ["incident-responders", "system:authenticated"] },
      reason: "INC-5150 payment outage",
    });
    await eventually("the signed alert", () => sink.deliveries.length > 0);
    const [delivery] = sink.deliveries;
    expect(delivery?.valid).toBe(true);
    const body = JSON.parse(delivery?.body ?? "{}") as { alerts: Record<string, unknown>[] };
    expect(body.alerts[0]).toMatchObject({
      type: "break-glass",
      object: `ConfigMap ${ns}/pay`,
      user: "bob",
      reason: "INC-5150 payment outage",
      fields: expect.arrayContaining(["/data/LOG_LEVEL"]) as unknown,
    });
    // The sink answers before the queue counts the delivery as sent.
    await eventually("the delivery to be counted", async () =>
      (await auditor.metrics.text()).includes(
        'gitops_guard_alerts_total{sink="webhook",outcome="sent"} 1',
      ),
    );
    const metrics = await auditor.metrics.text();
    expect(auditor.log.raw()).not.toContain(HMAC_KEY);
    expect(metrics).not.toContain(HMAC_KEY);
  });
});
