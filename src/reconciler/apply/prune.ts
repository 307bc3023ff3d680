import { ErrorCodes, GuardError, errorMessage, isGuardError } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import type { KubeObject } from "../../kube/objects.js";
import { settleLimited } from "../concurrency.js";
import type { InventoryEntry } from "../gitsync.js";
import type { LiveReader } from "../health/read.js";
import { describeObject } from "./apply.js";
import { pruneGuard, pruneVerdict } from "./prune-plan.js";

export interface PruneDeps {
  readonly kube: KubeClient;
  readonly read: LiveReader;
  readonly owner: { readonly namespace: string; readonly name: string };
  readonly concurrency: number;
}

export interface PruneGuardSettings {
  readonly inventory: number;
  readonly maxPercent: number;
  readonly approved: boolean;
}

export interface PruneResult {
  readonly deleted: readonly InventoryEntry[];
  /** Still owned (the guard refused, or the delete failed): they stay in the inventory. */
  readonly kept: readonly InventoryEntry[];
  /** Left in the cluster and no longer owned: prune disabled, or taken over by another owner. */
  readonly released: readonly InventoryEntry[];
  readonly refused?: string;
  readonly error?: GuardError;
}

interface Judged {
  readonly entry: InventoryEntry;
  readonly live: KubeObject | undefined;
  /** The read failed: the object is kept and stays owned, never guessed gone. */
  readonly unreadable?: boolean;
  /** Why the read failed (a 403 names the account and the verb). */
  readonly error?: unknown;
}

async function judge(deps: PruneDeps, candidates: readonly InventoryEntry[]): Promise<Judged[]> {
  const outcomes = await settleLimited(candidates, deps.concurrency, async (entry) => ({
    entry,
    live: await deps.read(entry),
  }));
  return outcomes.map((o, i) => {
    if (o.status === "fulfilled") return o.value;
    const entry = candidates[i] as InventoryEntry;
    // A kind the API server no longer serves (its CRD left with it) has nothing left to delete.
    if (isGuardError(o.reason, ErrorCodes.KUBE_NOT_FOUND)) return { entry, live: undefined };
    const error: unknown = o.reason;
    return { entry, live: undefined, unreadable: true, error };
  });
}

/**
 * Deletes what left Git, in the order given (the reverse of apply order), each only if it still
 * is the object this GitSync applied (owner labels, uid precondition), and only when the prune
 * guard allows this many deletions at once.
 */
export async function prune(
  deps: PruneDeps,
  candidates: readonly InventoryEntry[],
  guard: PruneGuardSettings,
): Promise<PruneResult> {
  const judged = await judge(deps, candidates);
  const unreadJudged = judged.filter((j) => j.unreadable === true);
  const unreadable = unreadJudged.map((j) => j.entry);
  const verdicts = judged
    .filter((j) => j.unreadable !== true)
    .map((j) => ({ ...j, verdict: pruneVerdict(j.live, deps.owner) }));
  const released = verdicts.filter((v) => v.verdict === "disabled" || v.verdict === "foreign");
  const doomed = verdicts.filter((v) => v.verdict === "delete");
  const refused = pruneGuard({ ...guard, deletions: doomed.length });
  const releasedEntries = released.map((v) => v.entry);
  if (refused !== undefined) {
    const kept = [...unreadable, ...doomed.map((d) => d.entry)];
    return { deleted: [], kept, released: releasedEntries, refused };
  }
  const deleted: InventoryEntry[] = [];
  const kept: InventoryEntry[] = [...unreadable];
  const failures: string[] = unreadJudged.map(
    (j) => `${describeObject(j.entry)}: could not be read: ${errorMessage(j.error)}`,
  );
  for (const { entry, live } of doomed) {
    try {
      const uid = live?.metadata.uid;
      await deps.kube.delete(entry, {
        propagationPolicy: "Background",
        ...(uid === undefined ? {} : { uid }),
      });
      deleted.push(entry);
    } catch (err: unknown) {
      kept.push(entry);
      failures.push(`${describeObject(entry)}: ${errorMessage(err)}`);
    }
  }
  if (failures.length === 0) return { deleted, kept, released: releasedEntries };
  const error = new GuardError(ErrorCodes.PRUNE_FAILED, `prune failed for ${failures.join("; ")}`);
  return { deleted, kept, released: releasedEntries, error };
}
