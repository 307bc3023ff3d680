// Registers a validating webhook served on loopback with the shared control plane, the way the
// product registers itself out of a cluster: a `url` clientConfig and its own CA bundle.
import { onTestFinished } from "vitest";
import { clientAs } from "./context.js";

export interface WebhookRule {
  readonly apiGroups: readonly string[];
  readonly apiVersions: readonly string[];
  readonly resources: readonly string[];
  readonly operations: readonly ("CREATE" | "UPDATE" | "DELETE" | "CONNECT" | "*")[];
  readonly scope?: "Namespaced" | "Cluster" | "*";
}

export interface WebhookRegistration {
  readonly name: string;
  /** https://127.0.0.1:PORT/path */
  readonly url: string;
  /** PEM of the CA that signed the webhook's serving certificate. */
  readonly caCert: string;
  readonly rules: readonly WebhookRule[];
  /** Limit the webhook to these namespaces, so one test's webhook never touches another's. */
  readonly namespaces?: readonly string[];
  readonly failurePolicy?: "Fail" | "Ignore";
  readonly timeoutSeconds?: number;
}

/** Creates the ValidatingWebhookConfiguration and deletes it when the test finishes. */
export async function registerValidatingWebhook(reg: WebhookRegistration): Promise<void> {
  const admin = clientAs("admin");
  const namespaceSelector =
    reg.namespaces === undefined
      ? {}
      : {
          matchExpressions: [
            { key: "kubernetes.io/metadata.name", operator: "In", values: [...reg.namespaces] },
          ],
        };
  await admin.apply({
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: reg.name },
    webhooks: [
      {
        name: `${reg.name}.gitops-guard.io`,
        clientConfig: { url: reg.url, caBundle: Buffer.from(reg.caCert).toString("base64") },
        rules: reg.rules,
        namespaceSelector,
        failurePolicy: reg.failurePolicy ?? "Fail",
        sideEffects: "None",
        admissionReviewVersions: ["v1"],
        timeoutSeconds: reg.timeoutSeconds ?? 5,
        matchPolicy: "Equivalent",
      },
    ],
  });
  onTestFinished(async () => {
    await admin.delete({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      name: reg.name,
    });
  });
}
