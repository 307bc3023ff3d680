/** The webhook configuration: the shipped manifest is exactly what the builder makes. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  MATCH_CONDITIONS,
  caBundlePatch,
  webhookConfiguration,
} from "../../src/admission/webhook-config.js";

const MANIFEST = new URL("../../webhooks/validating-webhook.yaml", import.meta.url);
const SERVICE = {
  service: {
    namespace: "gitops-guard-system",
    name: "gitops-guard-webhook",
    path: "/validate",
    port: 443,
  },
};

interface Hook {
  clientConfig: Record<string, unknown>;
  rules: { resources: string[]; scope: string }[];
  namespaceSelector: { matchExpressions: { operator: string; values: string[] }[] };
  failurePolicy: string;
  sideEffects: string;
  timeoutSeconds: number;
  matchPolicy: string;
  admissionReviewVersions: string[];
}

function hookOf(obj: Record<string, unknown>): Hook {
  return (obj["webhooks"] as Hook[])[0]!;
}

describe("the ValidatingWebhookConfiguration", () => {
  it("in webhooks/ is the one webhook-config.ts builds for a cluster", () => {
    const manifest = parse(readFileSync(MANIFEST, "utf8")) as Record<string, unknown>;
    const built = webhookConfiguration({
      ownNamespace: "gitops-guard-system",
      clientConfig: SERVICE,
    });
    expect(manifest).toEqual(JSON.parse(JSON.stringify(built)));
  });

  it("is lockout-safe: Ignore, NoneOnDryRun (Events), short timeout, Equivalent, system namespaces excluded", () => {
    const hook = hookOf(webhookConfiguration({ ownNamespace: "gg", clientConfig: SERVICE }));
    expect(hook).toMatchObject({
      failurePolicy: "Ignore",
      sideEffects: "NoneOnDryRun",
      timeoutSeconds: 5,
      matchPolicy: "Equivalent",
      admissionReviewVersions: ["v1"],
    });
    expect(hook.namespaceSelector.matchExpressions).toEqual([
      {
        key: "kubernetes.io/metadata.name",
        operator: "NotIn",
        values: ["kube-system", "kube-public", "kube-node-lease", "gg"],
      },
    ]);
    expect(hook.rules[0]?.resources).toEqual(["*", "*/scale"]);
    expect(MATCH_CONDITIONS.map((c) => c.name)).toEqual(["not-control-plane", "not-machinery"]);
  });

  it("out of a cluster points at a url with its own CA, scoped to given namespaces", () => {
    const ca = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
    const hook = hookOf(
      webhookConfiguration({
        name: "gg-t",
        ownNamespace: "gg",
        clientConfig: { url: "https://127.0.0.1:9443/validate" },
        caBundle: ca,
        failurePolicy: "Fail",
        namespaces: ["t-1"],
      }),
    );
    expect(hook.clientConfig).toEqual({
      url: "https://127.0.0.1:9443/validate",
      caBundle: Buffer.from(ca).toString("base64"),
    });
    expect(hook.failurePolicy).toBe("Fail");
    expect(hook.namespaceSelector.matchExpressions[0]).toMatchObject({
      operator: "In",
      values: ["t-1"],
    });
    expect(hook.rules.map((r) => [r.resources, r.scope])).toEqual([
      [["*", "*/scale"], "Namespaced"],
      [["namespaces"], "Cluster"],
    ]);
  });

  it("patches only the caBundle of an installed configuration", () => {
    expect(caBundlePatch("gitops-guard", "PEM")).toEqual({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "gitops-guard" },
      webhooks: [{ name: "validate.gitops-guard.io", clientConfig: { caBundle: "UEVN" } }],
    });
  });
});
