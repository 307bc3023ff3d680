/**
 * Which GitSync identities may write which objects: admission's half of tenancy. A GitSync that
 * acts as a service account of its own (spec.serviceAccountName or the default account) is a
 * reconciler only for what it owns: objects in its inventory, and objects of its own namespace
 * that no GitSync owns yet (its first apply). An object another GitSync owns is never its to
 * change, even where RBAC would let its account, so one tenant's reconciler cannot take over
 * another's objects in a namespace both may write.
 *
 * status.inventory is written by whoever may patch gitsyncs/status, so a claim alone is not
 * proof: when more than one GitSync claims an object, only the one whose owner labels the object
 * carries (as it is before the request) is trusted, and none when that object is unknown; one
 * claimant is not trusted either for an object labelled as another GitSync's.
 */
import { keyOf, type KubeObject, type ObjectRef } from "../kube/objects.js";
import {
  gitSyncAccount,
  serviceAccountNameOf,
  type GitSyncIdentitySettings,
} from "../presets/gitsync-identity.js";
import { inventoryEntries, refKey } from "./inventory-index.js";
import { GITSYNC_NAME_LABEL, GITSYNC_NAMESPACE_LABEL } from "./vap/message.js";

/** An object's labels as it is before the request (the review's oldObject); absent: unknown. */
export type OwnerLabels = Readonly<Record<string, string>> | undefined;

/** A GitSync identity and the namespace it is bound to: what the CEL backstop can express. */
export interface GitSyncWriter {
  readonly namespace: string;
  readonly username: string;
}

interface Writer {
  /** namespace/name of the GitSync. */
  readonly gitSync: string;
  readonly namespace: string;
  readonly owns: ReadonlySet<string>;
}

export interface WriterIndex {
  /**
   * The GitSync (namespace/name) as whose reconciler username may write ref, if any; labels:
   * the object's as it is (see OwnerLabels), which decide between GitSyncs that claim it.
   */
  writerFor(username: string, ref: ObjectRef, labels?: OwnerLabels): string | undefined;
  /** Every GitSync identity with its namespace, sorted: the backstop's list. */
  writers(): readonly GitSyncWriter[];
}

/** The GitSync (namespace/name) the owner labels name, if both are there. */
function labelledOwner(labels: OwnerLabels): string | undefined {
  const name = labels?.[GITSYNC_NAME_LABEL];
  const namespace = labels?.[GITSYNC_NAMESPACE_LABEL];
  if (name === undefined || namespace === undefined || name === "") return undefined;
  return keyOf({ namespace, name });
}

/** Of the GitSyncs whose inventory claims an object, the one trusted with it (see above). */
function trustedClaimant(claimants: readonly string[], labels: OwnerLabels): string | undefined {
  const labelled = labelledOwner(labels);
  const [only, ...more] = claimants;
  if (more.length === 0) return labelled === undefined || labelled === only ? only : undefined;
  return labelled !== undefined && claimants.includes(labelled) ? labelled : undefined;
}

export function buildWriterIndex(
  gitSyncs: readonly KubeObject[],
  settings: GitSyncIdentitySettings,
): WriterIndex {
  const byUser = new Map<string, Writer[]>();
  /** Object key -> the GitSyncs whose inventory lists it. */
  const claims = new Map<string, string[]>();
  for (const gitSync of gitSyncs) {
    const keys = inventoryEntries(gitSync).map((e) => e.key);
    const namespace = gitSync.metadata.namespace ?? "";
    const id = keyOf({ namespace, name: gitSync.metadata.name ?? "" });
    for (const k of new Set(keys)) claims.set(k, [...(claims.get(k) ?? []), id]);
    const account = gitSyncAccount(
      { namespace, serviceAccountName: serviceAccountNameOf(gitSync) },
      settings,
    );
    if (account === undefined) continue;
    const writer = { gitSync: id, namespace, owns: new Set(keys) };
    byUser.set(account.username, [...(byUser.get(account.username) ?? []), writer]);
  }
  const list = [...byUser.entries()]
    .flatMap(([username, ws]) =>
      [...new Set(ws.map((w) => w.namespace))].map((namespace) => ({ namespace, username })),
    )
    .sort((a, b) => (a.namespace + a.username).localeCompare(b.namespace + b.username));
  return {
    writerFor(username, ref, labels) {
      const candidates = byUser.get(username);
      if (candidates === undefined) return undefined;
      const claimants = claims.get(refKey(ref));
      if (claimants !== undefined) {
        const owner = trustedClaimant(claimants, labels);
        return candidates.find((w) => w.gitSync === owner)?.gitSync;
      }
      if (ref.namespace === undefined || ref.namespace === "") return undefined;
      return candidates.find((w) => w.namespace === ref.namespace)?.gitSync;
    },
    writers: () => list,
  };
}
