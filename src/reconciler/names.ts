/** The annotations and labels the reconciler reads and writes (prefix fixed by DESIGN.md). */

export const GITSYNC = { apiVersion: "gitops-guard.io/v1alpha1", kind: "GitSync" } as const;

/** Owner labels on every applied object; prune deletes only objects that still carry both. */
export const OWNER_NAME_LABEL = "gitops-guard.io/gitsync-name";
export const OWNER_NAMESPACE_LABEL = "gitops-guard.io/gitsync-namespace";

/** Wave of an object; Argo CD's annotation is honoured so Argo repositories migrate as they are. */
export const SYNC_WAVE_ANNOTATION = "gitops-guard.io/sync-wave";
export const ARGO_SYNC_WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave";

/**
 * `PreSync` on a Job: it runs, and must succeed, before anything else of the sync; `PostSync`:
 * after everything else is applied and healthy.
 */
export const HOOK_ANNOTATION = "gitops-guard.io/hook";
export const PRESYNC_HOOK = "PreSync";
export const POSTSYNC_HOOK = "PostSync";

/**
 * When a hook is deleted (Argo CD's names, comma-separated): BeforeHookCreation (before it runs
 * again for a new release), HookSucceeded, HookFailed. Helm's helm.sh/hook-delete-policy maps here.
 */
export const HOOK_DELETE_POLICY_ANNOTATION = "gitops-guard.io/hook-delete-policy";

/** Written on hooks with a delete policy: the release (revision and chart) they ran for. */
export const HOOK_RELEASE_ANNOTATION = "gitops-guard.io/hook-release";

/** `disabled` keeps an object in the cluster when it leaves Git. */
export const PRUNE_ANNOTATION = "gitops-guard.io/prune";

/** On a GitSync: the commit id for which the prune guard may be exceeded, once. */
export const PRUNE_APPROVED_ANNOTATION = "gitops-guard.io/prune-approved";

/** On a GitSync: any new value asks for a sync now (as Flux's reconcile.fluxcd.io/requestedAt). */
export const REQUESTED_AT_ANNOTATION = "gitops-guard.io/requested-at";
