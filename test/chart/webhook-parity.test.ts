/**
 * What the chart installs for the admission component is what webhooks/ ships and what the code
 * builds: the ValidatingWebhookConfiguration, and the webhook's RBAC.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { webhookConfiguration } from "../../src/admission/webhook-config.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { GO_TOOL_BUILD_TIMEOUT_MS } from "../tools/go-tools.js";
import { REPO_ROOT, find, render } from "./helm.js";

const NS = "gitops-guard-system";

function manifest(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(join(REPO_ROOT, "webhooks", file), "utf8")).map(
    (doc) => doc.toJS() as KubeObject,
  );
}

/** Labels differ on purpose (Helm's own); everything else must not. */
function withoutLabels(obj: KubeObject): KubeObject {
  const { labels: _labels, ...metadata } = obj.metadata;
  return JSON.parse(JSON.stringify({ ...obj, metadata })) as KubeObject;
}

describe(
  "the chart's ValidatingWebhookConfiguration",
  { timeout: GO_TOOL_BUILD_TIMEOUT_MS },
  () => {
    it("is webhooks/validating-webhook.yaml for release gitops-guard in gitops-guard-system", () => {
      const [file] = manifest("validating-webhook.yaml");
      const chart = find(render(), "ValidatingWebhookConfiguration");
      expect(withoutLabels(chart)).toEqual(withoutLabels(file!));
    });

    it("is what src/admission/webhook-config.ts builds, for any release and namespace", () => {
      const chart = find(
        render({ release: "edge", namespace: "guard" }),
        "ValidatingWebhookConfiguration",
      );
      const built = webhookConfiguration({
        ownNamespace: "guard",
        clientConfig: {
          service: {
            namespace: "guard",
            name: "edge-gitops-guard-webhook",
            path: "/validate",
            port: 443,
          },
        },
      });
      expect(withoutLabels(chart)).toEqual(withoutLabels(built));
    });

    it("keeps the name the admission component patches, whatever the release", () => {
      expect(
        find(render({ release: "edge" }), "ValidatingWebhookConfiguration").metadata.name,
      ).toBe("gitops-guard");
    });

    it("takes failurePolicy and timeout from values, and cert-manager's CA annotation", () => {
      const values = {
        webhook: { failurePolicy: "Fail", timeoutSeconds: 3, certManager: { enabled: true } },
      };
      const chart = find(render({ values }), "ValidatingWebhookConfiguration");
      const built = webhookConfiguration({
        ownNamespace: NS,
        failurePolicy: "Fail",
        timeoutSeconds: 3,
        clientConfig: {
          service: { namespace: NS, name: "gitops-guard-webhook", path: "/validate", port: 443 },
        },
      });
      expect(withoutLabels(chart).webhooks).toEqual(withoutLabels(built).webhooks);
      expect(chart.metadata.annotations).toEqual({
        "cert-manager.io/inject-ca-from": `${NS}/gitops-guard-webhook`,
      });
    });
  },
);

describe("the chart's webhook RBAC", { timeout: GO_TOOL_BUILD_TIMEOUT_MS }, () => {
  const file = manifest("webhook-rbac.yaml");
  const chart = render();
  for (const kind of ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]) {
    it(`${kind} gitops-guard-webhook equals webhooks/webhook-rbac.yaml's`, () => {
      const ours = withoutLabels(find(chart, kind, "gitops-guard-webhook"));
      expect(ours).toEqual(withoutLabels(find(file, kind, "gitops-guard-webhook")));
    });
  }
});
