/**
 * Makes the API server call this webhook. In a cluster the chart installs the configuration
 * (webhooks/validating-webhook.yaml, clientConfig.service) and only its caBundle is written
 * here. Out of a cluster (DESIGN.md "Running") the whole configuration is applied with a `url`
 * clientConfig on loopback and this process's CA.
 */
import type { KubeClient } from "../kube/client.js";
import { caBundlePatch, webhookConfiguration, WEBHOOK_PATH } from "./webhook-config.js";

export type Registration =
  | {
      /** In a cluster: patch the caBundle of the installed configuration. */
      readonly mode: "ca-bundle";
      readonly name: string;
    }
  | {
      /** Out of a cluster: the whole configuration, pointing at this process. */
      readonly mode: "url";
      readonly name: string;
      readonly ownNamespace: string;
      readonly failurePolicy?: "Ignore" | "Fail";
      readonly namespaces?: readonly string[];
    };

/**
 * Writes the configuration for a server reachable at serverUrl with caBundle (PEM). With no
 * caBundle in a cluster, someone else injects it (cert-manager's cainjector): nothing to do.
 */
export async function registerWebhook(
  kube: KubeClient,
  registration: Registration,
  serverUrl: string,
  caBundle: string | undefined,
): Promise<void> {
  if (registration.mode === "ca-bundle") {
    if (caBundle !== undefined) await kube.apply(caBundlePatch(registration.name, caBundle));
    return;
  }
  await kube.apply(
    webhookConfiguration({
      name: registration.name,
      ownNamespace: registration.ownNamespace,
      clientConfig: { url: `${serverUrl}${WEBHOOK_PATH}` },
      ...(caBundle === undefined ? {} : { caBundle }),
      ...(registration.failurePolicy === undefined
        ? {}
        : { failurePolicy: registration.failurePolicy }),
      ...(registration.namespaces === undefined ? {} : { namespaces: registration.namespaces }),
    }),
  );
}
