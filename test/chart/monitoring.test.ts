/**
 * ServiceMonitor and PrometheusRule: off by default (they need the Prometheus Operator's CRDs);
 * when on, the rule's alerts query metrics the code really exports, and the monitor reaches the
 * ops port of both Deployments.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import { GO_TOOL_BUILD_TIMEOUT_MS } from "../tools/go-tools.js";
import { REPO_ROOT, find, render } from "./helm.js";

/** Every metric name the code registers: metricName("x") gives gitops_guard_x. */
function exportedMetrics(): Set<string> {
  const names = new Set<string>();
  const files = readdirSync(join(REPO_ROOT, "src"), { recursive: true, encoding: "utf8" });
  for (const file of files.filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(join(REPO_ROOT, "src", file), "utf8");
    for (const match of text.matchAll(/metricName\("([a-z0-9_]+)"\)/g)) {
      names.add(`gitops_guard_${match[1]!}`);
    }
  }
  return names;
}

interface Rule {
  alert: string;
  expr: string;
  labels: { severity: string };
}

function rulesOf(rule: KubeObject): Rule[] {
  return (rule["spec"] as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
}

const ON = { metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } } };

describe("the chart's monitoring", { timeout: GO_TOOL_BUILD_TIMEOUT_MS }, () => {
  it("renders no Prometheus Operator object by default", () => {
    const kinds = render().map((o) => o.kind);
    expect(kinds).not.toContain("ServiceMonitor");
    expect(kinds).not.toContain("PrometheusRule");
  });

  it("alerts on drift, unattributed drift, break-glass, sync failures, key age and webhook errors", () => {
    const alerts = rulesOf(find(render({ values: ON }), "PrometheusRule")).map((r) => r.alert);
    expect(alerts).toEqual(
      expect.arrayContaining([
        "GitopsGuardDriftDetected",
        "GitopsGuardUnattributedDrift",
        "GitopsGuardBreakGlassActive",
        "GitopsGuardGitSyncFailing",
        "GitopsGuardSealingKeyOld",
        "GitopsGuardWebhookErrors",
      ]),
    );
  });

  it("queries only metrics that src/ exports", () => {
    const exported = exportedMetrics();
    expect(exported.size).toBeGreaterThan(20);
    const used = rulesOf(find(render({ values: ON }), "PrometheusRule")).flatMap((r) =>
      [...r.expr.matchAll(/gitops_guard_[a-z0-9_]+/g)].map((m) =>
        m[0].replace(/_(bucket|sum|count)$/, ""),
      ),
    );
    expect(used.length).toBeGreaterThan(8);
    expect(used.filter((name) => !exported.has(name))).toEqual([]);
  });

  it("puts the key-age threshold from values into the expression, in seconds", () => {
    const values = { metrics: { prometheusRule: { enabled: true, sealingKeyMaxAgeDays: 10 } } };
    const rule = rulesOf(find(render({ values }), "PrometheusRule")).find(
      (r) => r.alert === "GitopsGuardSealingKeyOld",
    );
    expect(rule?.expr).toMatch(/> 864000$/);
  });

  it("sends Prometheus's own token, or one from a Secret, to the guarded /metrics", () => {
    const endpoint = (values: Record<string, unknown>): Record<string, unknown> =>
      (
        find(render({ values }), "ServiceMonitor")["spec"] as {
          endpoints: Record<string, unknown>[];
        }
      ).endpoints[0]!;
    expect(endpoint(ON)).toMatchObject({
      bearerTokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
    });
    const secret = { name: "prometheus-token", key: "token" };
    const fromSecret = endpoint({
      metrics: { serviceMonitor: { enabled: true, tokenSecret: secret } },
    });
    expect(fromSecret["authorization"]).toEqual({ type: "Bearer", credentials: secret });
    expect(fromSecret).not.toHaveProperty("bearerTokenFile");
  });

  it("binds metrics.readers to the metrics reader role, and nobody by default", () => {
    const binding = "ClusterRoleBinding";
    expect(
      render()
        .filter((o) => o.kind === binding)
        .map((o) => o.metadata.name),
    ).not.toContain("gitops-guard-metrics-reader");
    const readers = [{ kind: "ServiceAccount", name: "prometheus-k8s", namespace: "monitoring" }];
    const bound = find(
      render({ values: { metrics: { readers } } }),
      binding,
      "gitops-guard-metrics-reader",
    );
    expect(bound["roleRef"]).toMatchObject({
      kind: "ClusterRole",
      name: "gitops-guard-metrics-reader",
    });
    expect(bound["subjects"]).toEqual(readers);
    const role = find(render(), "ClusterRole", "gitops-guard-metrics-reader");
    expect(role["rules"]).toEqual([{ nonResourceURLs: ["/metrics"], verbs: ["get"] }]);
  });

  it("scrapes the port named http of both Services", () => {
    const objects = render({ values: ON });
    const monitor = find(objects, "ServiceMonitor")["spec"] as {
      selector: { matchLabels: Record<string, string> };
      endpoints: { port: string }[];
    };
    const services = objects.filter((o) => o.kind === "Service");
    expect(services).toHaveLength(2);
    for (const service of services) {
      expect(service.metadata.labels).toMatchObject(monitor.selector.matchLabels);
      const ports = (service["spec"] as { ports: { name: string }[] }).ports.map((p) => p.name);
      expect(ports).toContain(monitor.endpoints[0]!.port);
    }
  });
});
