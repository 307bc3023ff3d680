import { keyOf } from "../kube/objects.js";
import { desiredKey } from "./desired.js";
import type { GitSyncObject, InventoryEntry } from "./gitsync.js";

/** Another GitSync that already owns an object this one wants to apply. */
export interface OwnershipConflict {
  readonly entry: InventoryEntry;
  /** namespace/name of the owning GitSync. */
  readonly owner: string;
}

function ordinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Claimant {
  readonly created: string;
  readonly keys: readonly string[];
}

/**
 * Which GitSync owns which object, from every GitSync's status.inventory (kept by the informer's
 * events, so a check costs no API call). Two GitSyncs that want one object: the one that has it
 * in its inventory keeps it and the other is refused; should both list it (they applied it in
 * the same moment), the older GitSync (then the smaller namespace/name) wins, so exactly one
 * of them is refused and the two never take turns overwriting it.
 */
export class OwnershipIndex {
  private readonly claimants = new Map<string, Claimant>();
  private readonly owners = new Map<string, Set<string>>();

  update(gitSync: GitSyncObject): void {
    const key = keyOf({ namespace: gitSync.metadata.namespace, name: gitSync.metadata.name ?? "" });
    this.remove(key);
    const keys = (gitSync.status?.inventory ?? []).map(desiredKey);
    this.claimants.set(key, { created: gitSync.metadata.creationTimestamp ?? "", keys });
    for (const k of keys) {
      const set = this.owners.get(k) ?? new Set<string>();
      set.add(key);
      this.owners.set(k, set);
    }
  }

  remove(key: string): void {
    const claimant = this.claimants.get(key);
    if (claimant === undefined) return;
    this.claimants.delete(key);
    for (const k of claimant.keys) {
      const set = this.owners.get(k);
      set?.delete(key);
      if (set?.size === 0) this.owners.delete(k);
    }
  }

  /** The objects of entries that another GitSync, which wins over self, owns. */
  conflicts(self: string, entries: readonly InventoryEntry[]): OwnershipConflict[] {
    const out: OwnershipConflict[] = [];
    for (const entry of entries) {
      const owners = this.owners.get(desiredKey(entry));
      if (owners === undefined) continue;
      // Not ours yet: whoever lists it keeps it. Ours too: the older GitSync keeps it.
      const winner = [...owners].sort((a, b) => this.order(a, b))[0];
      if (winner !== undefined && winner !== self) out.push({ entry, owner: winner });
    }
    return out;
  }

  /** Older first (an unknown creation time last), then by namespace/name. */
  private order(a: string, b: string): number {
    const rank = (k: string): string => this.claimants.get(k)?.created || "\uffff";
    return ordinal(rank(a), rank(b)) || ordinal(a, b);
  }
}
