import { isEphemeralHook } from "./apply/hook-policy.js";
import type { DesiredStateStore } from "./desired-store.js";
import type { DesiredObject } from "./desired.js";
import type { GitSyncObject } from "./gitsync.js";
import { annotationsOf, type SyncEnd, type SyncMemory } from "./schedule.js";
import type { SyncResult } from "./sync.js";

/**
 * Keeps what Git wants in memory for later heals: all of a finished sync, what a waiting sync
 * applied so far (and its render, to resume from); a failed sync leaves the last good state.
 */
export function rememberResult(store: DesiredStateStore, key: string, result: SyncResult): void {
  store.recordApplied(key, result.applied);
  // Hooks deleted once they succeed are not Git's lasting state: self-heal leaves them alone.
  const lasting = (desired: readonly DesiredObject[]): DesiredObject[] =>
    desired.filter((d) => !isEphemeralHook(d));
  if (result.kind === "synced") store.setDesired(key, lasting(result.desired));
  if (result.kind === "waiting")
    store.setDesired(key, lasting(result.applied.map((a) => a.desired)));
  store.rememberRendered(
    key,
    result.kind === "waiting" ? { fetched: result.fetched, desired: result.desired } : undefined,
  );
}

export interface SyncFacts {
  readonly end: SyncEnd;
  readonly complete: boolean;
  readonly healthy: boolean;
  readonly now: number;
  /** Git was asked this time (not a resume of an already rendered revision). */
  readonly fetched: boolean;
}

/** What to remember of a sync of obj, given what was remembered before. Pure. */
export function memoryAfter(
  obj: GitSyncObject,
  before: SyncMemory | undefined,
  facts: SyncFacts,
): SyncMemory {
  const annotations = annotationsOf(obj);
  return {
    generation: obj.metadata.generation,
    requestedAt: annotations.requestedAt,
    pruneApproval: annotations.pruneApproval,
    syncedAt: facts.now,
    fetchedAt: facts.fetched ? facts.now : (before?.fetchedAt ?? facts.now),
    complete: facts.complete,
    waiting: facts.end === "waiting",
    healthy: facts.healthy,
    failures: facts.end === "failed" ? (before?.failures ?? 0) + 1 : 0,
  };
}
