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
}

/** An out-of-band change not yet recorded, kept so that a quick heal cannot hide it. */
export interface PendingChange {
  readonly object: KubeObject;
  readonly seen: Observation;
  readonly sinceMs: number;
}

export type ChangeKind = "first-seen" | "unchanged" | "noise" | "healed" | "changed";

/** One new state of a tracked object, classified against what came before. */
export interface Observation {
  readonly kind: ChangeKind;
  readonly previous?: KubeObject;
  readonly previousMs?: number;
  /** previous -> current (the out-of-band change's diff). */
  readonly changes: readonly FieldChange[];
  /** While drifted: since when. */
  readonly driftSinceMs?: number;
}

/**
 * The per-object memory behind drift and heal: a baseline (the last state from Git) and the
 * last state seen. Pure bookkeeping: the component decides who made a change.
 */
export class DriftTracker {
  private readonly objects = new Map<string, Tracked>();

  observe(id: string, current: KubeObject, nowMs: number, options: DiffOptions): Observation {
    const t = this.objects.get(id);
    if (t === undefined) {
      this.objects.set(id, { baseline: current, lastSeen: current, lastSeenMs: nowMs });
      return { kind: "first-seen", changes: [] };
    }
    const since = t.driftSinceMs === undefined ? {} : { driftSinceMs: t.driftSinceMs };
    const base = { previous: t.lastSeen, previousMs: t.lastSeenMs, ...since };
    if (t.lastSeen.metadata.resourceVersion === current.metadata.resourceVersion) {
      return { kind: "unchanged", changes: [], ...base };
    }
    if (t.driftSinceMs !== undefined && fieldDiff(t.baseline, current, options).length === 0) {
      return { kind: "healed", changes: [], ...base };
    }
    const changes = fieldDiff(t.lastSeen, current, options);
    return { kind: changes.length === 0 ? "noise" : "changed", changes, ...base };
  }

  /** The change is Git's (or noise, or a heal): it becomes the new baseline. */
  accept(id: string, current: KubeObject, nowMs: number): void {
    this.objects.set(id, { baseline: current, lastSeen: current, lastSeenMs: nowMs });
  }

  /** An out-of-band change: the baseline stays, the object is drifted from now (or earlier). */
  markDrift(id: string, current: KubeObject, nowMs: number): void {
    const t = this.objects.get(id);
    if (t === undefined) return;
    t.driftSinceMs ??= nowMs;
    t.lastSeen = current;
    t.lastSeenMs = nowMs;
    delete t.pending;
  }

  /** A noise change while drifted: remember the state, keep the drift. */
  seen(id: string, current: KubeObject, nowMs: number): void {
    const t = this.objects.get(id);
    if (t === undefined) return;
    t.lastSeen = current;
    t.lastSeenMs = nowMs;
  }

  /** Starts (or continues) the wait for attribution of this state; returns when it started. */
  hold(id: string, object: KubeObject, seen: Observation, nowMs: number): number {
    const t = this.objects.get(id);
    if (t === undefined) return nowMs;
    const same = t.pending?.object.metadata.resourceVersion === object.metadata.resourceVersion;
    if (t.pending === undefined || !same) t.pending = { object, seen, sinceMs: nowMs };
    return t.pending.sinceMs;
  }

  /** The held change, when the object has moved on from it (it must be recorded now). */
  overtaken(id: string, current: KubeObject): PendingChange | undefined {
    const pending = this.objects.get(id)?.pending;
    if (pending === undefined) return undefined;
    const same = pending.object.metadata.resourceVersion === current.metadata.resourceVersion;
    return same ? undefined : pending;
  }

  isDrifted(id: string): boolean {
    return this.objects.get(id)?.driftSinceMs !== undefined;
  }

  forget(id: string): void {
    this.objects.delete(id);
  }
}
