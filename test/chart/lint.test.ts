/** helm lint (with values.schema.json) over the defaults and the values people change. */
import { describe, expect, it } from "vitest";
import { GO_TOOL_BUILD_TIMEOUT_MS } from "../tools/go-tools.js";
import { lint, render } from "./helm.js";

const VARIATIONS: Readonly<Record<string, Record<string, unknown>>> = {
  "the defaults": {},
  "cert-manager, metrics and a narrower reconciler role": {
    webhook: {
      certManager: { enabled: true, issuerRef: { name: "corp-ca", kind: "ClusterIssuer" } },
    },
    metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } },
    reconciler: { clusterRole: "gitops-apply" },
  },
  "emptyDir state, no NetworkPolicy, no GuardPolicy, no PDB": {
    controller: { persistence: { type: "emptyDir" }, replicas: 2 },
    networkPolicy: { enabled: false },
    guardPolicy: { enabled: false },
    webhook: { podDisruptionBudget: { enabled: false } },
  },
  "Bitnami takeover, Audit mode with presets and guarded kinds, the audit webhook": {
    controller: { bitnamiSealedSecrets: true },
    auditWebhook: { enabled: true, tlsSecretName: "audit-tls", tokenSecretName: "audit-token" },
    guardPolicy: {
      mode: "Audit",
      reconcilerPresets: ["argocd", "flux"],
      match: { resources: [{ apiGroups: ["apps"], kinds: ["Deployment"] }] },
      ignoreFields: [
        { apiGroups: ["apps"], kinds: ["Deployment"], jsonPointers: ["/spec/replicas"] },
      ],
      denyPlaintextSecrets: true,
      alerts: [{ type: "slack", secretRef: { name: "slack-webhook" } }],
    },
  },
};

describe("helm lint charts/gitops-guard", { timeout: GO_TOOL_BUILD_TIMEOUT_MS }, () => {
  for (const [name, values] of Object.entries(VARIATIONS)) {
    it(`passes --strict with ${name}, and renders`, () => {
      const result = lint(values, true);
      expect(result.stderr + result.stdout).toContain("0 chart(s) failed");
      expect(result.status).toBe(0);
      expect(render({ values }).length).toBeGreaterThan(10);
    });
  }

  it("passes without --strict", () => {
    expect(lint().status).toBe(0);
  });
});

describe("values.schema.json", { timeout: GO_TOOL_BUILD_TIMEOUT_MS }, () => {
  // Each bad value must be named in helm's message, with what was expected.
  const cases: [string, Record<string, unknown>, RegExp[]][] = [
    ["replicas as a word", { webhook: { replicas: "two" } }, [/\/webhook\/replicas/, /integer/]],
    ["no webhook replica", { webhook: { replicas: 0 } }, [/\/webhook\/replicas/, /minimum|>= 1/]],
    ["an unknown key (a typo)", { webhook: { replica: 3 } }, [/replica/, /additional/i]],
    ["an unknown mode", { guardPolicy: { mode: "Deny" } }, [/\/guardPolicy\/mode/, /Enforce/]],
    ["a bad failurePolicy", { webhook: { failurePolicy: "Open" } }, [/failurePolicy/, /Ignore/]],
    ["a persistence type", { controller: { persistence: { type: "hostPath" } } }, [/type/, /pvc/]],
    [
      "the audit webhook without its Secrets",
      { auditWebhook: { enabled: true } },
      [/auditWebhook\/tlsSecretName/, /minLength|at least 1/],
    ],
  ];
  for (const [name, values, patterns] of cases) {
    it(`rejects ${name}, saying where and why`, () => {
      const result = lint(values);
      expect(result.status).not.toBe(0);
      const output = result.stdout + result.stderr;
      expect(output).toContain("values don't meet the specifications of the schema");
      for (const pattern of patterns) expect(output).toMatch(pattern);
    });
  }
});
