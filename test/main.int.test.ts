import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { ErrorCodes } from "../src/errors.js";
import { Informer } from "../src/kube/informer.js";
import { createServices, run, runComponents } from "../src/main.js";
import type { Component } from "../src/runtime/component.js";
import { clientAs, eventually, testNamespace } from "./envtest/context.js";
import { leaderConfig } from "./helpers/leader-config.js";
import { sink } from "./helpers/log-sink.js";
import { bearer, opsReaderToken } from "./helpers/ops-access.js";

/** A real leader-only component: an informer over the namespace's ConfigMaps. */
function watcher(
  services: ReturnType<typeof createServices>,
  namespace: string,
): Component & { runs: number } {
  const informer = new Informer({
    client: services.kube,
    type: { apiVersion: "v1", kind: "ConfigMap" },
    namespace,
    clock: services.clock,
  });
  return {
    name: "watcher",
    leaderOnly: true,
    runs: 0,
    readiness: () => ({ "informer:configmaps": informer.synced() }),
    async run(signal) {
      this.runs++;
      informer.start();
      await new Promise<void>((resolve) => {
        signal.addEventListener(
          "abort",
          () => {
            resolve();
          },
          { once: true },
        );
      });
      await informer.stop();
    },
  };
}

describe("gitops-guard run against the real API server", () => {
  it("serves health and metrics, leads through a Lease, and releases it on stop", async () => {
    const ns = await testNamespace("main");
    const config = leaderConfig(ns);
    const logs = sink();
    const services = createServices(config, { logDestination: logs.stream });
    const component = watcher(services, ns);
    const abort = new AbortController();
    let opsUrl = "";
    const running = runComponents(config, services, [component], {
      signal: abort.signal,
      onListening: (url) => (opsUrl = url),
    });
    await eventually(
      "the ops server to be ready",
      async () => opsUrl !== "" && (await fetch(`${opsUrl}/readyz`)).status === 200,
    );
    expect(await (await fetch(`${opsUrl}/healthz`)).text()).toBe("ok");
    // /metrics asks the API server who the caller is (test/http/ops-auth.int.test.ts).
    expect((await fetch(`${opsUrl}/metrics`)).status).toBe(401);
    const headers = bearer(await opsReaderToken(ns));
    const metrics = await (await fetch(`${opsUrl}/metrics`, { headers })).text();
    expect(metrics).toContain(
      `gitops_guard_leader_is_leader{lease="${config.leaderElection.leaseName}"} 1`,
    );
    const lease = await clientAs("admin").get({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      namespace: ns,
      name: config.leaderElection.leaseName,
    });
    expect(lease?.["spec"]).toMatchObject({ holderIdentity: "replica-1" });

    abort.abort();
    await running;
    expect(component.runs).toBe(1);
    const released = await clientAs("admin").get({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      namespace: ns,
      name: config.leaderElection.leaseName,
    });
    expect((released?.["spec"] as { holderIdentity?: string }).holderIdentity).toBeUndefined();
    await expect(fetch(`${opsUrl}/healthz`)).rejects.toThrow();
    const messages = logs.lines().map((l) => l["msg"]);
    expect(messages).toEqual(
      expect.arrayContaining(["started", "leading", "stopped leading", "stopped"]),
    );
  });

  it("refuses a kubeconfig it cannot read, naming it, before starting anything", async () => {
    const config = loadConfig({
      flags: { kubeconfig: "/nonexistent/kubeconfig", opsListen: "127.0.0.1:0" },
      env: {},
      hostname: "test-host",
    });
    await expect(run(config, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: ErrorCodes.KUBECONFIG_INVALID,
      message: expect.stringContaining("/nonexistent/kubeconfig") as unknown,
    });
  });
});
