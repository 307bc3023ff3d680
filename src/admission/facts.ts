/**
 * The facts of one admission request that every rule reads, computed once: who asks, about
 * which object, and which fields change.
 */
import type { ObjectRef } from "../kube/objects.js";
import { changedPointers } from "./field-diff.js";
import type { Requester } from "./identity.js";
import type {
  AdmissionObject,
  AdmissionRequest,
  GroupVersionKind,
  Operation,
} from "./review-types.js";

export interface RequestFacts {
  readonly request: AdmissionRequest;
  readonly operation: Operation;
  readonly who: Requester;
  /** The API group of the resource ("" for core); for a scale subresource, the parent's group. */
  readonly group: string;
  readonly kind: string;
  /** "" for the main resource. */
  readonly subresource: string;
  /** "" for cluster-scoped objects; a Namespace's own name for a Namespace. */
  readonly namespace: string;
  /** The object; for a scale subresource of a built-in kind, its parent (apps/v1 Deployment). */
  readonly ref: ObjectRef;
  readonly object?: AdmissionObject;
  readonly oldObject?: AdmissionObject;
  /** The object is being deleted (oldObject.metadata.deletionTimestamp is set). */
  readonly deleting: boolean;
  readonly isSecret: boolean;
  /** Changed pointers without metadata noise; only for UPDATE with both objects. */
  readonly changes: () => readonly string[];
}

function present(obj: AdmissionObject | null | undefined): AdmissionObject | undefined {
  return obj ?? undefined;
}

function nameOf(req: AdmissionRequest): string {
  if (req.name !== undefined && req.name !== "") return req.name;
  return req.object?.metadata?.name ?? req.oldObject?.metadata?.name ?? "";
}

function isNamespaceKind(req: AdmissionRequest): boolean {
  return req.kind.group === "" && req.kind.kind === "Namespace";
}

function namespaceOf(req: AdmissionRequest, name: string): string {
  return isNamespaceKind(req) ? name : (req.namespace ?? "");
}

/**
 * The kinds of the built-in resources with a scale subresource, by "group/resource". A scale
 * request's kind is autoscaling/v1 Scale; its fact must name the object whose /spec/replicas
 * changes, as the auditor sees it drift. A custom resource's kind cannot be told from its
 * plural: its scale keeps the Scale kind (and its fact stays unjoined, never wrongly joined).
 */
const SCALE_PARENTS: Readonly<Record<string, string>> = {
  "apps/deployments": "Deployment",
  "apps/replicasets": "ReplicaSet",
  "apps/statefulsets": "StatefulSet",
  "/replicationcontrollers": "ReplicationController",
};

/** The group, version and kind the request's object goes by: a scale's parent, if known. */
function gvkOf(req: AdmissionRequest): GroupVersionKind {
  if (req.subResource !== "scale") return req.kind;
  const { group, version, resource } = req.resource;
  const parent = SCALE_PARENTS[`${group}/${resource}`];
  return parent === undefined ? req.kind : { group, version, kind: parent };
}

function refOf(req: AdmissionRequest, name: string): ObjectRef {
  const { group, version, kind } = gvkOf(req);
  const apiVersion = group === "" ? version : `${group}/${version}`;
  // A Namespace is cluster-scoped, whatever request.namespace says.
  const ns = isNamespaceKind(req) ? "" : (req.namespace ?? "");
  return ns === "" ? { apiVersion, kind, name } : { apiVersion, kind, namespace: ns, name };
}

function lazy<T>(compute: () => T): () => T {
  let done = false;
  let value: T | undefined;
  return () => {
    if (!done) {
      value = compute();
      done = true;
    }
    return value as T;
  };
}

export function factsOf(request: AdmissionRequest): RequestFacts {
  const name = nameOf(request);
  const object = present(request.object);
  const oldObject = present(request.oldObject);
  const deletionTimestamp = oldObject?.metadata?.deletionTimestamp;
  const kind = request.kind.kind;
  return {
    request,
    operation: request.operation,
    who: { username: request.userInfo.username, groups: request.userInfo.groups ?? [] },
    group: request.resource.group,
    kind,
    subresource: request.subResource ?? "",
    namespace: namespaceOf(request, name),
    ref: refOf(request, name),
    ...(object === undefined ? {} : { object }),
    ...(oldObject === undefined ? {} : { oldObject }),
    deleting: typeof deletionTimestamp === "string" && deletionTimestamp !== "",
    isSecret: request.resource.group === "" && kind === "Secret",
    changes: lazy(() =>
      object !== undefined && oldObject !== undefined ? changedPointers(oldObject, object) : [],
    ),
  };
}
