import type { KubeClient } from "../kube/client.js";
import type { KubeObject } from "../kube/objects.js";
import type { GitSyncObject } from "./gitsync.js";
import { GITSYNC } from "./names.js";

/** Held on every GitSync the reconciler syncs, so deleting one prunes (or orphans) its objects. */
export const GITSYNC_FINALIZER = "gitops-guard.io/finalizer";

/** A field manager of its own: applying only the finalizer leaves every other field alone. */
const FINALIZER_MANAGER = "gitops-guard-finalizer";

export function holdsFinalizer(obj: KubeObject): boolean {
  return obj.metadata.finalizers?.includes(GITSYNC_FINALIZER) === true;
}

function finalizerApply(obj: GitSyncObject, finalizers: string[]): KubeObject {
  return {
    ...GITSYNC,
    metadata: {
      name: obj.metadata.name ?? "",
      namespace: obj.metadata.namespace ?? "",
      finalizers,
    },
  };
}

/**
 * Adds the finalizer with server-side apply: metadata.finalizers is a set, so the entry is ours
 * and other controllers' finalizers are untouched.
 */
export async function addFinalizer(kube: KubeClient, obj: GitSyncObject): Promise<void> {
  await kube.apply(finalizerApply(obj, [GITSYNC_FINALIZER]), { fieldManager: FINALIZER_MANAGER });
}

/** Removes our entry (applying an empty set under our manager drops what it owned). */
export async function removeFinalizer(kube: KubeClient, obj: GitSyncObject): Promise<void> {
  const rest = (obj.metadata.finalizers ?? []).filter((f) => f !== GITSYNC_FINALIZER);
  // An entry someone else also claims would survive the empty apply: patch it away then.
  await kube.apply(finalizerApply(obj, []), { fieldManager: FINALIZER_MANAGER });
  const after = await kube.get<GitSyncObject>({
    ...GITSYNC,
    namespace: obj.metadata.namespace ?? "",
    name: obj.metadata.name ?? "",
  });
  if (after !== undefined && holdsFinalizer(after)) {
    await kube.mergePatch(
      { ...GITSYNC, namespace: obj.metadata.namespace ?? "", name: obj.metadata.name ?? "" },
      { metadata: { finalizers: rest, resourceVersion: after.metadata.resourceVersion } },
    );
  }
}
