/**
 * Start-up: the tracker takes back what an earlier process kept (baseline-store.ts), so the
 * first look at each object compares it with the state last seen, not with itself. An object
 * kept but no longer in the cache was deleted while no auditor ran: it is queued, and the
 * deletion path judges it (a prune is excused, anything else is journaled).
 */
import { groupOf, keyOf, parseKey } from "../kube/objects.js";
import type { WorkQueue } from "../runtime/queue.js";
import type { Logger } from "../telemetry/log.js";
import { queueKey } from "./audit-object.js";
import type { DriftTracker, TrackedState } from "./drift-tracker.js";
import type { BaselineStore } from "./journal/baseline-store.js";
import { kindId } from "./scope.js";
import type { WatchSet } from "./watch-set.js";

/** The "group/Kind" and "namespace/name" the work queue knows a kept object by. */
export function whereOf(state: TrackedState | undefined): { kind: string; key: string } {
  const obj = state?.lastSeen;
  if (obj === undefined) return { kind: "", key: "" };
  const { namespace, name = "" } = obj.metadata;
  return { kind: kindId(groupOf(obj.apiVersion), obj.kind), key: keyOf({ namespace, name }) };
}

export function restoreTracked(deps: {
  readonly baselines: BaselineStore;
  readonly tracker: DriftTracker;
  readonly watches: WatchSet;
  readonly queue: WorkQueue<string>;
  readonly logger: Logger;
}): void {
  let restored = 0;
  let gone = 0;
  for (const kept of deps.baselines.load()) {
    const watched = deps.watches.kinds.get(kept.kind);
    // A kind no longer guarded: its objects are out of scope, as a live look would find.
    if (watched === undefined) {
      deps.baselines.forget(kept.id);
      continue;
    }
    deps.tracker.restore(kept.id, kept.state);
    restored++;
    const ref = parseKey(kept.key);
    if (watched.informer.get(ref.name, ref.namespace) === undefined) {
      deps.queue.add(queueKey(kept.kind, kept.key));
      gone++;
    }
  }
  if (restored > 0) {
    deps.logger.info({ restored, gone }, "took back the state of the objects an earlier run saw");
  }
}
