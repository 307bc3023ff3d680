import type { EventNote } from "../kube/events.js";
import { keyOf } from "../kube/objects.js";
import type { HealthSummary } from "./health/aggregate.js";
import { PRUNE_APPROVED_ANNOTATION } from "./names.js";
import { conditionMessage } from "./reasons.js";
import type { Verdict, StatusUpdate } from "./status.js";
import type { SyncResult } from "./sync.js";

export type { EventNote } from "../kube/events.js";

export interface Outcome {
  readonly status: StatusUpdate;
  readonly events: readonly EventNote[];
  /** Everything applied and pruned as Git says. */
  readonly complete: boolean;
  readonly healthy: boolean;
}

// Event messages are cut at 1 KiB (events.ts); twenty lines fit and say what changed.
const MAX_EVENT_LINES = 20;

export function healthVerdict(health: HealthSummary): Verdict {
  return health.status === "Healthy"
    ? { status: "True", reason: "Healthy", message: health.message }
    : { status: "False", reason: health.status, message: health.message };
}

/** "Deployment/apps/web configured" lines, as Flux writes them. */
function changeLines(result: Extract<SyncResult, { kind: "synced" }>): string[] {
  const lines = result.applied
    .filter((a) => a.action !== "unchanged")
    .map((a) => `${a.desired.ref.kind}/${keyOf(a.desired.ref)} ${a.action}`);
  for (const entry of result.pruned.deleted) lines.push(`${entry.kind}/${keyOf(entry)} deleted`);
  if (lines.length <= MAX_EVENT_LINES) return lines;
  return [...lines.slice(0, MAX_EVENT_LINES), `(and ${lines.length - MAX_EVENT_LINES} more)`];
}

function syncedVerdict(
  result: Extract<SyncResult, { kind: "synced" }>,
  owner: { namespace: string; name: string },
): Verdict {
  const { pruned, fetched } = result;
  if (pruned.refused !== undefined) {
    const approve =
      `kubectl annotate gitsync ${owner.name} -n ${owner.namespace} ` +
      `${PRUNE_APPROVED_ANNOTATION}=${fetched.commit}`;
    return {
      status: "False",
      reason: "PruneRefused",
      message: `applied ${fetched.revision} but ${pruned.refused}; to allow it once: ${approve}`,
    };
  }
  if (pruned.error !== undefined) {
    return { status: "False", reason: "PruneFailed", message: conditionMessage(pruned.error) };
  }
  const { refused } = result.health;
  if (refused !== undefined) {
    // Its account may not read what it applied: health cannot be judged, so not Ready.
    const message = `applied ${fetched.revision} but the GitSync's account may not read ${refused}`;
    return { status: "False", reason: "Forbidden", message: message.slice(0, 4000) };
  }
  const prunedNote = pruned.deleted.length > 0 ? `, pruned ${pruned.deleted.length}` : "";
  return {
    status: "True",
    reason: "Synced",
    message: `applied revision ${fetched.revision}: ${result.desired.length} object${result.desired.length === 1 ? "" : "s"}${prunedNote}`,
  };
}

function synced(
  result: Extract<SyncResult, { kind: "synced" }>,
  owner: { namespace: string; name: string },
  generation: number | undefined,
): Outcome {
  const ready = syncedVerdict(result, owner);
  const complete = ready.status === "True";
  const events: EventNote[] = [];
  const lines = changeLines(result);
  if (lines.length > 0)
    events.push({ type: "Normal", reason: "Synced", message: lines.join("\n") });
  if (!complete) events.push({ type: "Warning", reason: ready.reason, message: ready.message });
  return {
    status: {
      generation,
      ready,
      healthy: healthVerdict(result.health),
      lastAttemptedRevision: result.fetched.revision,
      ...(complete ? { lastAppliedRevision: result.fetched.revision } : {}),
      ...(complete && result.fetched.helm !== undefined ? { helm: result.fetched.helm } : {}),
      inventory: result.inventory,
    },
    events,
    complete,
    healthy: result.health.status === "Healthy",
  };
}

/** Status and Events for a sync's result. Pure. */
export function outcomeOf(
  result: SyncResult,
  owner: { namespace: string; name: string },
  generation: number | undefined,
): Outcome {
  if (result.kind === "synced") return synced(result, owner, generation);
  const attempted = result.fetched?.revision;
  const common = {
    generation,
    inventory: result.inventory,
    ...(attempted === undefined ? {} : { lastAttemptedRevision: attempted }),
  };
  if (result.kind === "waiting") {
    const ready: Verdict = { status: "Unknown", reason: result.reason, message: result.message };
    return {
      status: { ...common, ready },
      events: [{ type: "Normal", reason: result.reason, message: result.message }],
      complete: false,
      healthy: false,
    };
  }
  const message = conditionMessage(result.error);
  const ready: Verdict = { status: "False", reason: result.reason, message };
  return {
    status: { ...common, ready },
    events: [{ type: "Warning", reason: result.reason, message }],
    complete: false,
    healthy: false,
  };
}
