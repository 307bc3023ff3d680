/**
 * Sealing scopes and their RSA-OAEP labels, exactly as Bitnami Sealed Secrets defines them: the
 * label binds a value to where it may be opened, so a renamed or moved object cannot open it.
 */
export const SCOPES = ["strict", "namespace-wide", "cluster-wide"] as const;
export type Scope = (typeof SCOPES)[number];

export const NAMESPACE_WIDE_ANNOTATION = "sealedsecrets.bitnami.com/namespace-wide";
export const CLUSTER_WIDE_ANNOTATION = "sealedsecrets.bitnami.com/cluster-wide";

export type Annotations = Readonly<Record<string, string>>;

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** The scope the annotations select; only the exact string "true" counts, cluster-wide wins. */
export function scopeOf(annotations: Annotations | undefined): Scope {
  if (annotations?.[CLUSTER_WIDE_ANNOTATION] === "true") return "cluster-wide";
  if (annotations?.[NAMESPACE_WIDE_ANNOTATION] === "true") return "namespace-wide";
  return "strict";
}

/** The OAEP label text: "ns/name" (with the slash), "ns", or "" for cluster-wide. */
export function labelText(scope: Scope, namespace: string, name: string): string {
  if (scope === "cluster-wide") return "";
  if (scope === "namespace-wide") return namespace;
  return `${namespace}/${name}`;
}

export function sealingLabel(scope: Scope, namespace: string, name: string): Buffer {
  return Buffer.from(labelText(scope, namespace, name), "utf8");
}

/** Annotations with the scope ones set to say `scope` and nothing else (strict: none). */
export function withScopeAnnotations(
  annotations: Annotations | undefined,
  scope: Scope,
): Record<string, string> {
  const {
    [NAMESPACE_WIDE_ANNOTATION]: _namespaceWide,
    [CLUSTER_WIDE_ANNOTATION]: _clusterWide,
    ...rest
  } = annotations ?? {};
  if (scope === "namespace-wide") return { ...rest, [NAMESPACE_WIDE_ANNOTATION]: "true" };
  if (scope === "cluster-wide") return { ...rest, [CLUSTER_WIDE_ANNOTATION]: "true" };
  return rest;
}
