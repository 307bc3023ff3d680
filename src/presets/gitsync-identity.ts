/**
 * Whose rights a GitSync's requests carry, as data shared by the reconciler (which impersonates
 * it), admission (which accepts its writes only for what that GitSync owns) and the auditor
 * (whose Git changes are not drift). One rule, so the three never disagree:
 *
 * - spec.serviceAccountName names an account of the GitSync's own namespace;
 * - else the controller's default account (Flux's --default-service-account), in that namespace;
 * - else, or for a GitSync in the controller's own namespace without a name, the reconciler's
 *   own identity (platform-owned GitSyncs).
 *
 * An account that does not exist is still a valid name to impersonate: the API server finds no
 * binding for it and refuses every request, so a forgotten field fails closed.
 */

export interface GitSyncIdentityInput {
  readonly namespace: string;
  /** spec.serviceAccountName, if set. */
  readonly serviceAccountName?: string | undefined;
}

export interface GitSyncIdentitySettings {
  /** The controller's --default-service-account, if set. */
  readonly defaultServiceAccount?: string | undefined;
  /** The namespace the controller runs in. */
  readonly controllerNamespace: string;
}

/** An account a GitSync acts as; absent means the reconciler's own identity. */
export interface GitSyncAccount {
  readonly namespace: string;
  readonly name: string;
  /** system:serviceaccount:<namespace>:<name>, the user the API server sees. */
  readonly username: string;
}

export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

export function gitSyncAccount(
  gitSync: GitSyncIdentityInput,
  settings: GitSyncIdentitySettings,
): GitSyncAccount | undefined {
  const named = gitSync.serviceAccountName;
  const name =
    named !== undefined && named !== ""
      ? named
      : gitSync.namespace === settings.controllerNamespace
        ? undefined
        : settings.defaultServiceAccount;
  if (name === undefined || name === "") return undefined;
  return {
    namespace: gitSync.namespace,
    name,
    username: serviceAccountUsername(gitSync.namespace, name),
  };
}

/** The spec.serviceAccountName of a GitSync object as the API server has it. */
export function serviceAccountNameOf(gitSync: object): string | undefined {
  const spec = (gitSync as { readonly spec?: unknown }).spec;
  if (typeof spec !== "object" || spec === null) return undefined;
  const value = (spec as Record<string, unknown>)["serviceAccountName"];
  return typeof value === "string" && value !== "" ? value : undefined;
}
