import type { KubeObject } from "../kube/objects.js";
import { fieldDiff, type DiffOptions } from "./diff/diff.js";
import type { FieldChange } from "./journal/record.js";

/** What the auditor remembers about one object between reconciles. */
interface Tracked {
  /** The state the reconciler (Git) last left it in. */
  baseline: KubeObject;
  lastSeen: KubeObject;
  lastSeenMs: number;
  /** Set while the object differs from baseline because of an out-of-band change. */
  driftSinceMs?: number;
  /** A change that waits for attribution facts to arrive. */
  pending?: PendingChange;
  /** Its deletion is journaled; the baseline waits for the object to come back. */
  deleted?: boolean;
  /** Restored from before this process started, and no state of it judged since. */
  restored?: boolean;
}

/**
 * The part of a tracked object that outlives the process (baseline-store.ts keeps it), so a
 * change made while no auditor ran is found, diffed and attributed when one starts again.
 */
export interface TrackedState {
  readonly baseline: KubeObject;
  readonly lastSeen: KubeObject;
  readonly lastSeenMs: number;
  readonly driftSinceMs?: number;
  readonly deleted?: boolean;
  /**
   * A change held for its attribution: kept too, so that a process killed while it waits (and
   * after self-heal undid the change) leaves it to the next one to journal, not to nobody.
   */
  readonly pending?: KeptPending;
}

export interface KeptPending {
  readonly object: KubeObject;
  readonly kind: "changed" | "deleted";
  readonly changes: readonly FieldChange[];
  readonly sinceMs: number;
}

/** Told of each object whose lasting state changed; undefined when it is no longer tracked. */
export type TrackerListener = (id: string, state: TrackedState | undefined) => void;

function lasting(t: Tracked): TrackedState {
  return {
    baseline: t.baseline,
    lastSeen: t.lastSeen,
    lastSeenMs: t.lastSeenMs,
    ...(t.driftSinceMs === undefined ? {} : { driftSinceMs: t.driftSinceMs }),
    ...(t.deleted === true ? { deleted: true } : {}),
    ...(t.pending === undefined ? {} : { pending: keptPending(t.pending) }),
  };
}

function keptPending(p: PendingChange): KeptPending {
  const kind = p.seen.kind === "deleted" ? "deleted" : "changed";
  return { object: p.object, kind, changes: p.seen.changes, sinceMs: p.sinceMs };
}

/** A kept held change, as the change the restored object's next reconcile must record. */
function heldAgain(state: TrackedState, kept: KeptPending): PendingChange {
  const since = state.driftSinceMs === undefined ? {} : { driftSinceMs: state.driftSinceMs };
  return {
    object: kept.object,
    sinceMs: kept.sinceMs,
    seen: {
      kind: kept.kind,
      previous: state.lastSeen,
      previousMs: state.lastSeenMs,
      changes: kept.changes,
      restored: true,
      ...since,
    },
  };
}

/** An out-of-band change not yet recorded, kept so that a quick heal cannot hide it. */
export interface PendingChange {
  readonly object: KubeObject;
  readonly seen: Observation;
  readonly sinceMs: number;
}

export type ChangeKind = "first-seen" | "unchanged" | "noise" | "healed" | "changed" | "deleted";

/** A deletion's field diff: the whole object (RFC 6901 pointer "") was removed. */
export const WHOLE_OBJECT_REMOVED: FieldChange = { path: "", op: "remove" };

/** A tracked object that is no longer in the informer's cache. */
export interface Vanished {
  /** Its last state seen, which the deletion is recorded against. */
  readonly last: KubeObject;
  readonly observation: Observation;
  /** The deletion was journaled already. */
  readonly recorded: boolean;
}

/** One new state of a tracked object, classified against what came before. */
export interface Observation {
  readonly kind: ChangeKind;
  readonly previous?: KubeObject;
  readonly previousMs?: number;
  /** previous -> current (the out-of-band change's diff). */
  readonly changes: readonly FieldChange[];
  /** While drifted: since when. */
  readonly driftSinceMs?: number;
  /** previous is from before this process started: the change was made while none watched. */
  readonly restored?: true;
}

/**
 * The per-object memory behind drift and heal: a baseline (the last state from Git) and the
 * last state seen. Pure bookkeeping: the component decides who made a change.
 */
export class DriftTracker {
  private readonly objects = new Map<string, Tracked>();
  private readonly listener: TrackerListener | undefined;

  constructor(listener?: TrackerListener) {
    this.listener = listener;
  }

  private changed(id: string): void {
    if (this.listener === undefined) return;
    const t = this.objects.get(id);
    this.listener(id, t === undefined ? undefined : lasting(t));
  }

  /** Takes back a state kept by an earlier process; its next observation says so. */
  restore(id: string, state: TrackedState): void {
    const { pending, ...rest } = state;
    this.objects.set(id, {
      ...rest,
      restored: true,
      ...(pending === undefined ? {} : { pending: heldAgain(state, pending) }),
    });
  }

  observe(id: string, current: KubeObject, nowMs: number, options: DiffOptions): Observation {
    const t = this.objects.get(id);
    if (t === undefined) {
      this.objects.set(id, { baseline: current, lastSeen: current, lastSeenMs: nowMs });
      this.changed(id);
      return { kind: "first-seen", changes: [] };
    }
    const since = t.driftSinceMs === undefined ? {} : { driftSinceMs: t.driftSinceMs };
    if (t.lastSeen.metadata.resourceVersion === current.metadata.resourceVersion) {
      // Nothing happened while none watched: later changes are watched ones.
      delete t.restored;
      return {
        kind: "unchanged",
        changes: [],
        previous: t.lastSeen,
        previousMs: t.lastSeenMs,
        ...since,
      };
    }
    // Until the change is judged (accepted or recorded), however often it is looked at again.
    const restored = t.restored === true ? { restored: true as const } : {};
    const base = { previous: t.lastSeen, previousMs: t.lastSeenMs, ...since, ...restored };
    if (t.driftSinceMs !== undefined && fieldDiff(t.baseline, current, options).length === 0) {
      return { kind: "healed", changes: [], ...base };
    }
    const changes = fieldDiff(t.lastSeen, current, options);
    return { kind: changes.length === 0 ? "noise" : "changed", changes, ...base };
  }

  /** The change is Git's (or noise, or a heal): it becomes the new baseline. */
  accept(id: string, current: KubeObject, nowMs: number): void {
    this.objects.set(id, { baseline: current, lastSeen: current, lastSeenMs: nowMs });
    this.changed(id);
  }

  /** An out-of-band change: the baseline stays, the object is drifted from now (or earlier). */
  markDrift(id: string, current: KubeObject, nowMs: number): void {
    const t = this.objects.get(id);
    if (t === undefined) return;
    t.driftSinceMs ??= nowMs;
    t.lastSeen = current;
    t.lastSeenMs = nowMs;
    delete t.pending;
    delete t.deleted;
    delete t.restored;
    this.changed(id);
  }

  /**
   * A noise change (status, ignored fields, server metadata): the new state replaces the last
   * one seen, and the baseline too unless drifted. It is not told to the listener: the state
   * kept on disk compares the same, and a write per status update would cost more than the
   * rest of the auditor's work on it (test/bench/auditor-baselines.bench.ts).
   */
  noise(id: string, current: KubeObject, nowMs: number): void {
    const t = this.objects.get(id);
    if (t === undefined) return;
    if (t.driftSinceMs === undefined) t.baseline = current;
    t.lastSeen = current;
    t.lastSeenMs = nowMs;
    delete t.deleted;
    delete t.restored;
  }

  /**
   * The object left the cache: its last state and the deletion as an observation, or undefined
   * when it was never tracked (never in scope, or created and deleted between two looks).
   */
  vanished(id: string): Vanished | undefined {
    const t = this.objects.get(id);
    if (t === undefined) return undefined;
    const since = t.driftSinceMs === undefined ? {} : { driftSinceMs: t.driftSinceMs };
    return {
      last: t.lastSeen,
      recorded: t.deleted === true,
      observation: {
        kind: "deleted",
        previous: t.lastSeen,
        previousMs: t.lastSeenMs,
        changes: [WHOLE_OBJECT_REMOVED],
        ...since,
        ...(t.restored === true ? { restored: true as const } : {}),
      },
    };
  }

  /**
   * A journaled deletion: the object is drifted (gone) from now, and the baseline stays, so a
   * re-creation as Git has it shows as the heal.
   */
  markDeleted(id: string, nowMs: number): void {
    const t = this.objects.get(id);
    if (t === undefined) return;
    t.driftSinceMs ??= nowMs;
    t.deleted = true;
    delete t.pending;
    delete t.restored;
    this.changed(id);
  }

  /** Starts (or continues) the wait for attribution of this state; returns when it started. */
  hold(id: string, object: KubeObject, seen: Observation, nowMs: number): number {
    const t = this.objects.get(id);
    if (t === undefined) return nowMs;
    const same =
      t.pending?.seen.kind === seen.kind &&
      t.pending.object.metadata.resourceVersion === object.metadata.resourceVersion;
    if (t.pending === undefined || !same) {
      t.pending = { object, seen, sinceMs: nowMs };
      this.changed(id);
    }
    return t.pending.sinceMs;
  }

  /**
   * The held change, when the object has moved on from it (it must be recorded now): a held
   * edit by a newer state or by the deletion (current undefined), a held deletion by the
   * object's re-creation.
   */
  overtaken(id: string, current: KubeObject | undefined): PendingChange | undefined {
    const pending = this.objects.get(id)?.pending;
    if (pending === undefined) return undefined;
    const deletion = pending.seen.kind === "deleted";
    if (current === undefined) return deletion ? undefined : pending;
    const same =
      !deletion && pending.object.metadata.resourceVersion === current.metadata.resourceVersion;
    return same ? undefined : pending;
  }

  /** The state Git (the reconciler) last left the object in, when tracked. */
  baselineOf(id: string): KubeObject | undefined {
    return this.objects.get(id)?.baseline;
  }

  isDrifted(id: string): boolean {
    return this.objects.get(id)?.driftSinceMs !== undefined;
  }

  forget(id: string): void {
    if (this.objects.delete(id)) this.changed(id);
  }
}
