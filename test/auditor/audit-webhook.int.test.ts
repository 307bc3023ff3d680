import { describe, expect, it } from "vitest";
import { createKubeClient, FIELD_MANAGER } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { makeServingCert, makeTestCa } from "../helpers/tls.js";
import {
  auditedApiServer,
  breakGlassEdit,
  configMap,
  gitSyncWithInventory,
  ref,
  startAuditor,
  userKubeconfig,
} from "./harness.js";

describe("auditor with the API server's audit webhook", () => {
  it("attributes edits that bypassed admission, and bob's break-glass with his reason", async () => {
    const ns = await testNamespace("auditwh");
    const reconciler = clientAs("reconciler");
    await reconciler.apply(configMap(ns, "web"), { fieldManager: FIELD_MANAGER });
    await reconciler.apply(configMap(ns, "api"), { fieldManager: FIELD_MANAGER });
    await gitSyncWithInventory(ns, [configMap(ns, "web"), configMap(ns, "api")]);
    const ca = makeTestCa();
    const auditor = await startAuditor({
      auditWebhook: { listen: "127.0.0.1:0", tls: makeServingCert(ca, ["127.0.0.1"]) },
    });
    const server = await auditedApiServer(auditor, ca, ns);

    const admin2 = createKubeClient({ kubeconfig: server.kubeconfig });
    const web = await admin2.get<KubeObject>(ref(ns, "web"));
    await admin2.replace({ ...web!, data: { LOG_LEVEL: "debug" } });

    const bob = createKubeClient({
      kubeconfig: userKubeconfig(server.url, "bob", ["incident-responders"], ns),
    });
    await breakGlassEdit(bob, ns, "api");

    const recordOf = (name: string) => auditor.records(ns).find((r) => r.object?.name === name);
    await eventually(
      "both records",
      () => recordOf("web") !== undefined && recordOf("api") !== undefined,
    );
    // Each waits for its own audit event, so the two may be journaled in either order.
    const first = recordOf("web");
    const second = recordOf("api");
    expect(first).toMatchObject({
      type: "drift-detected",
      object: { kind: "ConfigMap", namespace: ns, name: "web" },
      user: {
        username: "envtest-admin-2",
        groups: expect.arrayContaining(["system:masters"]) as unknown,
      },
      diff: [{ path: "/data/LOG_LEVEL", op: "replace", from: "info", to: "debug" }],
    });
    expect(second).toMatchObject({
      type: "break-glass",
      object: { name: "api" },
      user: { username: "bob", groups: expect.arrayContaining(["incident-responders"]) as unknown },
      reason: "INC-4711 database failover",
    });
    expect(second?.diff?.map((c) => c.path)).toEqual(
      expect.arrayContaining(["/data/LOG_LEVEL", "/metadata/annotations"]),
    );
    const metrics = await auditor.metrics.text();
    expect(metrics).toContain("gitops_guard_break_glass_active 1");
    expect(metrics).toMatch(/gitops_guard_audit_webhook_events_total\{outcome="accepted"\} \d+/);
  });
});
