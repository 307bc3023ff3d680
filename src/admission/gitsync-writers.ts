/**
 * Which GitSync identities may write which objects: admission's half of tenancy. A GitSync that
 * acts as a service account of its own (spec.serviceAccountName or the default account) is a
 * reconciler only for what it owns: objects in its inventory, and objects of its own namespace
 * that no GitSync owns yet (its first apply). An object another GitSync owns is never its to
 * change, even where RBAC would let its account, so one tenant's reconciler cannot take over
 * another's objects in a namespace both may write.
 */
import { keyOf, type KubeObject, type ObjectRef } from "../kube/objects.js";
import {
  gitSyncAccount,
  serviceAccountNameOf,
  type GitSyncIdentitySettings,
} from "../presets/gitsync-identity.js";
import { inventoryEntries, refKey } from "./inventory-index.js";

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
  /** The GitSync (namespace/name) as whose reconciler username may write ref, if any. */
  writerFor(username: string, ref: ObjectRef): string | undefined;
  /** Every GitSync identity with its namespace, sorted: the backstop's list. */
  writers(): readonly GitSyncWriter[];
}

export function buildWriterIndex(
  gitSyncs: readonly KubeObject[],
  settings: GitSyncIdentitySettings,
): WriterIndex {
  const byUser = new Map<string, Writer[]>();
  const owned = new Set<string>();
  for (const gitSync of gitSyncs) {
    const keys = inventoryEntries(gitSync).map((e) => e.key);
    for (const k of keys) owned.add(k);
    const namespace = gitSync.metadata.namespace ?? "";
    const account = gitSyncAccount(
      { namespace, serviceAccountName: serviceAccountNameOf(gitSync) },
      settings,
    );
    if (account === undefined) continue;
    const writer = {
      gitSync: keyOf({ namespace, name: gitSync.metadata.name ?? "" }),
      namespace,
      owns: new Set(keys),
    };
    byUser.set(account.username, [...(byUser.get(account.username) ?? []), writer]);
  }
  const list = [...byUser.entries()]
    .flatMap(([username, ws]) =>
      [...new Set(ws.map((w) => w.namespace))].map((namespace) => ({ namespace, username })),
    )
    .sort((a, b) => (a.namespace + a.username).localeCompare(b.namespace + b.username));
  return {
    writerFor(username, ref) {
      const candidates = byUser.get(username);
      if (candidates === undefined) return undefined;
      const key = refKey(ref);
      const owner = candidates.find((w) => w.owns.has(key));
      if (owner !== undefined) return owner.gitSync;
      if (owned.has(key) || ref.namespace === undefined || ref.namespace === "") return undefined;
      return candidates.find((w) => w.namespace === ref.namespace)?.gitSync;
    },
    writers: () => list,
  };
}
