/** The shapes of Kubernetes objects as gitops-guard reads them: only what it relies on. */
export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  readonly manager?: string;
  readonly operation?: string;
  readonly apiVersion?: string;
  readonly time?: string;
  readonly fieldsType?: string;
  readonly fieldsV1?: unknown;
  readonly subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
}

/** Metadata the API server maintains: never "a change someone made", never Git's to set. */
export const SERVER_METADATA_FIELDS = [
  "managedFields",
  "resourceVersion",
  "generation",
  "uid",
  "creationTimestamp",
  "selfLink",
] as const;

/** kubectl's client-side apply keeps the whole applied object here (a Secret's values too). */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A kind of object: what discovery resolves to a REST resource. */
export interface TypeRef {
  readonly apiVersion: string;
  readonly kind: string;
}

/** One object by identity. namespace is absent for cluster-scoped kinds. */
export interface ObjectRef extends TypeRef {
  readonly namespace?: string;
  readonly name: string;
}

export function refOf(obj: KubeObject): ObjectRef {
  const name = obj.metadata.name ?? "";
  const ns = obj.metadata.namespace;
  return ns === undefined || ns === ""
    ? { apiVersion: obj.apiVersion, kind: obj.kind, name }
    : { apiVersion: obj.apiVersion, kind: obj.kind, namespace: ns, name };
}

/** "namespace/name", or "name" when cluster-scoped: the work-queue key of an object. */
export function keyOf(ref: {
  readonly namespace?: string | undefined;
  readonly name: string;
}): string {
  return ref.namespace === undefined || ref.namespace === ""
    ? ref.name
    : `${ref.namespace}/${ref.name}`;
}

export function parseKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf("/");
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** "apps/v1" -> "apps"; "v1" -> "" (the core group). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${keyOf(ref)} (${ref.apiVersion})`;
}

export function isKubeObject(value: unknown): value is KubeObject {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v["apiVersion"] === "string" &&
    typeof v["kind"] === "string" &&
    typeof v["metadata"] === "object" &&
    v["metadata"] !== null
  );
}
