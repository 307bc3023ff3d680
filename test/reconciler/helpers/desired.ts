// Desired objects for the pure cores' unit tests, built by the product's own buildDesired.
import type { KubeObject } from "../../../src/kube/objects.js";
import { buildDesired, scopeKey, type DesiredObject } from "../../../src/reconciler/desired.js";

const CLUSTER_SCOPED = new Set([
  "Namespace",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
  "StorageClass",
]);

/** Objects placed as the reconciler places them, owned by GitSync "apps/app". */
export function desiredOf(objects: readonly KubeObject[]): DesiredObject[] {
  const scopes = new Map(objects.map((o) => [scopeKey(o), !CLUSTER_SCOPED.has(o.kind)] as const));
  return buildDesired(
    objects.map((object, i) => ({ object, source: `file-${i}.yaml`, line: 1 })),
    { owner: { namespace: "apps", name: "app" }, scopes },
  );
}

export function obj(
  apiVersion: string,
  kind: string,
  name: string,
  annotations?: Record<string, string>,
): KubeObject {
  return {
    apiVersion,
    kind,
    metadata: annotations === undefined ? { name } : { name, annotations },
  };
}
