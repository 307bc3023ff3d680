import { readFileSync } from "node:fs";
import { Counter, register as globalRegistry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createMetrics, METRIC_PREFIX, metricName } from "../../src/telemetry/metrics.js";

const build = { version: "1.2.3", node: "v24.0.0" };

/** Metric family names from the exposition's # TYPE lines. */
function families(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("# TYPE "))
    .map((line) => line.split(" ")[2] ?? "");
}

describe("createMetrics", () => {
  it("exposes build info with value 1", async () => {
    const text = await createMetrics(build).text();
    expect(text).toContain('gitops_guard_build_info{version="1.2.3",node="v24.0.0"} 1');
  });

  it("defaults the build info to package.json's version and this Node", async () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    const text = await createMetrics().text();
    expect(text).toContain(
      `gitops_guard_build_info{version="${pkg.version}",node="${process.version}"} 1`,
    );
  });

  it("records the foundation metrics under typed labels", async () => {
    const m = createMetrics(build);
    m.reconcileTotal.inc({ controller: "sealedsecrets", outcome: "success" });
    m.reconcileTotal.inc({ controller: "sealedsecrets", outcome: "success" });
    m.reconcileDuration.observe({ controller: "gitsync" }, 0.2);
    m.workqueueDepth.set({ controller: "gitsync" }, 3);
    m.informerRestarts.inc({ resource: "secrets" });
    m.informerSynced.set({ resource: "secrets" }, 1);
    m.leaderIsLeader.set({ lease: "gitops-guard-controller" }, 1);
    m.httpRequests.inc({ server: "ops", route: "/healthz", code: "200" });
    const text = await m.text();
    expect(text).toContain(
      'gitops_guard_reconcile_total{controller="sealedsecrets",outcome="success"} 2',
    );
    expect(text).toContain(
      'gitops_guard_reconcile_duration_seconds_bucket{le="0.25",controller="gitsync"} 1',
    );
    expect(text).toContain('gitops_guard_reconcile_duration_seconds_count{controller="gitsync"} 1');
    expect(text).toContain('gitops_guard_workqueue_depth{controller="gitsync"} 3');
    expect(text).toContain('gitops_guard_informer_restarts_total{resource="secrets"} 1');
    expect(text).toContain('gitops_guard_informer_synced{resource="secrets"} 1');
    expect(text).toContain('gitops_guard_leader_is_leader{lease="gitops-guard-controller"} 1');
    expect(text).toContain(
      'gitops_guard_http_requests_total{server="ops",route="/healthz",code="200"} 1',
    );
  });

  it("rejects a label the metric was not declared with, at compile time and at run time", () => {
    const m = createMetrics(build);
    expect(() => {
      // @ts-expect-error: "controler" is not a label of reconcileTotal.
      m.reconcileTotal.inc({ controler: "x" });
    }).toThrow(/label/);
  });

  it("prefixes every metric of ours and keeps the standard process metrics", async () => {
    const names = families(await createMetrics(build).text());
    expect(names).toContain("process_cpu_user_seconds_total");
    expect(names).toContain("nodejs_heap_size_used_bytes");
    const ours = names.filter((n) => !n.startsWith("process_") && !n.startsWith("nodejs_"));
    for (const name of ours) expect(name.startsWith(METRIC_PREFIX)).toBe(true);
    expect(ours.sort()).toEqual([
      "gitops_guard_build_info",
      "gitops_guard_http_requests_total",
      "gitops_guard_informer_restarts_total",
      "gitops_guard_informer_synced",
      "gitops_guard_leader_is_leader",
      "gitops_guard_reconcile_duration_seconds",
      "gitops_guard_reconcile_total",
      "gitops_guard_workqueue_depth",
    ]);
  });

  it("gives each instance its own registry and never touches the global one", async () => {
    const a = createMetrics(build);
    const b = createMetrics(build);
    a.informerRestarts.inc({ resource: "pods" });
    expect(await a.text()).toContain('gitops_guard_informer_restarts_total{resource="pods"} 1');
    expect(await b.text()).not.toContain('resource="pods"');
    expect(await globalRegistry.metrics()).not.toContain(METRIC_PREFIX);
  });

  it("lets components register their own metrics on the registry", async () => {
    const m = createMetrics(build);
    const drift = new Counter({
      name: metricName("drift_detected_total"),
      help: "Drift detected.",
      labelNames: ["kind"] as const,
      registers: [m.registry],
    });
    drift.inc({ kind: "Deployment" });
    expect(await m.text()).toContain('gitops_guard_drift_detected_total{kind="Deployment"} 1');
  });

  it("reports the Prometheus text content type", () => {
    expect(createMetrics(build).contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
