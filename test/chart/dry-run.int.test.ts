/**
 * The rendered chart against the real API server's validation and admission:
 * `kubectl apply --server-side --dry-run=server`, which persists nothing, so the cluster-scoped
 * objects (CRDs, the webhook configuration, ClusterRoles, the GuardPolicy) cannot disturb the
 * tests that share this API server. The Prometheus Operator's and cert-manager's kinds stay
 * off: their CRDs are not on this server (test/chart/monitoring.test.ts covers the rule).
 */
import { describe, expect, it } from "vitest";
import { testNamespace } from "../envtest/context.js";
import { GO_TOOL_BUILD_TIMEOUT_MS } from "../tools/go-tools.js";
import { asList, kubectl } from "./cluster.js";
import { kinds, render } from "./helm.js";

async function dryRun(release: string, values: Record<string, unknown>): Promise<string[]> {
  const objects = render({ release, namespace: release, values, crds: true });
  // --force-conflicts: the CRDs already here were applied client-side by test/envtest; the
  // question is whether the server accepts the chart's objects, not who owns which field.
  const result = await kubectl(
    ["apply", "--server-side", "--force-conflicts", "--dry-run=server", "-f", "-"],
    asList(objects),
  );
  expect(result.status).toBe(0);
  // The only warning: the CRDs were applied client-side by test/envtest, and kubectl notes it
  // cannot move their last-applied annotation to server-side apply in a dry run.
  const warnings = result.stderr
    .split("\n")
    .filter(
      (line) =>
        line !== "" &&
        !line.includes("failed to migrate kubectl.kubernetes.io/last-applied-configuration"),
    );
  expect(warnings).toEqual([]);
  const accepted = result.stdout.split("\n").filter((line) => line.endsWith("(server dry run)"));
  expect(accepted).toHaveLength(objects.length);
  return kinds(objects);
}

describe("the rendered chart on the real API server", { timeout: GO_TOOL_BUILD_TIMEOUT_MS }, () => {
  it("is accepted whole, CRDs included, with the defaults", async () => {
    const ns = await testNamespace("chart");
    // A GuardPolicy of this test's own name: a dry run of "default" would be judged against
    // whatever another test left under that name.
    const rendered = await dryRun(ns, { guardPolicy: { name: ns } });
    expect(rendered).toEqual(
      expect.arrayContaining([
        "CustomResourceDefinition/guardpolicies.gitops-guard.io",
        `Deployment/${ns}-gitops-guard-webhook`,
        `Deployment/${ns}-gitops-guard-controller`,
        `PersistentVolumeClaim/${ns}-gitops-guard-controller`,
        `PodDisruptionBudget/${ns}-gitops-guard-webhook`,
        `NetworkPolicy/${ns}-gitops-guard-webhook`,
        "ValidatingWebhookConfiguration/gitops-guard",
        `GuardPolicy/${ns}`,
      ]),
    );
  });

  it("is accepted with the values people change", async () => {
    const ns = await testNamespace("chartv");
    await dryRun(ns, {
      controller: { persistence: { type: "emptyDir" }, replicas: 2, bitnamiSealedSecrets: true },
      auditWebhook: { enabled: true, tlsSecretName: "audit-tls", tokenSecretName: "audit-token" },
      webhook: { replicas: 3, failurePolicy: "Fail", timeoutSeconds: 10 },
      networkPolicy: { opsFrom: [{ namespaceSelector: { matchLabels: { team: "monitoring" } } }] },
      guardPolicy: {
        name: ns,
        mode: "Audit",
        reconcilerPresets: ["argocd", "flux"],
        match: { resources: [{ apiGroups: ["apps"], kinds: ["Deployment", "StatefulSet"] }] },
        ignoreFields: [
          { apiGroups: ["apps"], kinds: ["Deployment"], jsonPointers: ["/spec/replicas"] },
        ],
        denyPlaintextSecrets: true,
        alerts: [{ type: "slack", secretRef: { name: "slack-webhook" } }],
      },
    });
  });
});
