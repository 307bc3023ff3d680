/**
 * What decide() may know about the cluster, passed in as data so decide() stays pure: the
 * caller (the webhook router, a test, the standalone CLI) fills it from informers or files.
 */
import type { ObjectRef } from "../kube/objects.js";
import type { GitLocation } from "./decision.js";
import { BUNDLED_NAMESPACE } from "../presets/reconcilers.js";

export interface DecideContext {
  /**
   * The GitSync inventories: where ref comes from, or undefined when no GitSync applied it.
   * Look up by API group, kind, namespace and name: ref.apiVersion carries the version the
   * request used, which may differ from the one the reconciler applied.
   */
  readonly locate?: (ref: ObjectRef) => GitLocation | undefined;
  /** A namespace's labels for namespaceSelector; undefined when not known. */
  readonly namespaceLabels?: (namespace: string) => Readonly<Record<string, string>> | undefined;
  /** The webhook's own namespace: never guarded (no self-deadlock). */
  readonly ownNamespace?: string;
  /**
   * The bundled reconciler's username (system:serviceaccount:<ns>:<reconciler account>): its
   * writes are Git's, so an allow of them is never an attribution fact, policy or not.
   */
  readonly reconcilerUsername?: string;
  /**
   * The GitSync (namespace/name) whose reconciler username is for ref: its own account writing
   * what it owns, or its own namespace's unowned objects (gitsync-writers.ts). undefined: not a
   * GitSync identity, or not for this object. labels: the object's as it is before the request
   * (oldObject), whose owner labels decide between GitSyncs that claim it.
   */
  readonly gitSyncWriter?: (
    username: string,
    ref: ObjectRef,
    labels?: Readonly<Record<string, string>>,
  ) => string | undefined;
}

export function ownNamespaceOf(context: DecideContext): string {
  return context.ownNamespace ?? BUNDLED_NAMESPACE;
}
