import type { GitSyncObject } from "./gitsync.js";
import { PRUNE_APPROVED_ANNOTATION, REQUESTED_AT_ANNOTATION } from "./names.js";

/** What the reconciler remembers of a GitSync's last sync (in memory; a restart syncs again). */
export interface SyncMemory {
  readonly generation: number | undefined;
  readonly requestedAt: string | undefined;
  readonly pruneApproval: string | undefined;
  /** When the last sync attempt finished (clock ms). */
  readonly syncedAt: number;
  /** When Git was last fetched (clock ms); the interval counts from it. */
  readonly fetchedAt: number;
  /** The last sync applied everything and pruned what it had to. */
  readonly complete: boolean;
  /** The last sync stopped at a running PreSync hook or an unhealthy wave, to resume. */
  readonly waiting: boolean;
  /** The last health verdict was Healthy. */
  readonly healthy: boolean;
  /** Failed syncs in a row. */
  readonly failures: number;
}

export interface Timing {
  /** Re-check of health while objects progress. */
  readonly healthPollMs: number;
  /** Next attempt while a PreSync hook runs or a wave is not yet healthy. */
  readonly waitRequeueMs: number;
  /** Next look while a dependency is not ready (a dependency's change wakes it sooner). */
  readonly dependencyRequeueMs: number;
  /** First retry after a failed sync; doubles per failure up to the interval. */
  readonly retryBaseMs: number;
}

export function annotationsOf(obj: GitSyncObject): {
  requestedAt?: string;
  pruneApproval?: string;
} {
  const annotations = obj.metadata.annotations ?? {};
  const out: { requestedAt?: string; pruneApproval?: string } = {};
  const requestedAt = annotations[REQUESTED_AT_ANNOTATION];
  const pruneApproval = annotations[PRUNE_APPROVED_ANNOTATION];
  if (requestedAt !== undefined) out.requestedAt = requestedAt;
  if (pruneApproval !== undefined) out.pruneApproval = pruneApproval;
  return out;
}

/**
 * What to do now, pure:
 * - sync: fetch, render and apply (never synced here, spec or request annotations changed, the
 *   interval has passed since the last fetch, or the last sync failed);
 * - resume: apply the revision already rendered, from where it waited (a hook or a wave),
 *   without asking Git again;
 * - health: only look at the health of what was applied.
 */
export type NextAction = "sync" | "resume" | "health";

export function nextAction(
  memory: SyncMemory | undefined,
  obj: GitSyncObject,
  intervalMs: number,
  now: number,
): NextAction {
  if (memory === undefined) return "sync";
  const { requestedAt, pruneApproval } = annotationsOf(obj);
  const changed =
    memory.generation !== obj.metadata.generation ||
    memory.requestedAt !== requestedAt ||
    memory.pruneApproval !== pruneApproval;
  if (changed || now >= memory.fetchedAt + intervalMs) return "sync";
  if (memory.waiting) return "resume";
  return memory.complete ? "health" : "sync";
}

export type SyncEnd = "synced" | "waiting" | "failed";

/** How long until this GitSync is looked at again. Pure. */
export function nextDelay(
  end: SyncEnd,
  memory: SyncMemory,
  intervalMs: number,
  timing: Timing,
): number {
  if (end === "failed") {
    const backoff = timing.retryBaseMs * 2 ** Math.max(0, Math.min(memory.failures - 1, 20));
    return Math.min(backoff, intervalMs);
  }
  if (end === "waiting") return Math.min(timing.waitRequeueMs, intervalMs);
  return memory.healthy ? intervalMs : Math.min(timing.healthPollMs, intervalMs);
}

/** Delay after a health-only look: poll while unhealthy, else wait out the interval. */
export function healthDelay(
  memory: SyncMemory,
  intervalMs: number,
  now: number,
  timing: Timing,
): number {
  const untilSync = Math.max(0, memory.fetchedAt + intervalMs - now);
  return memory.healthy ? untilSync : Math.min(timing.healthPollMs, untilSync);
}
