import {
  conditionsEqual,
  rfc3339,
  setCondition,
  type Condition,
  type ConditionStatus,
} from "../runtime/conditions.js";
import type { GitSyncStatus, HelmReleaseStatus, InventoryEntry } from "./gitsync.js";
import { inventoriesEqual } from "./inventory.js";

/** A condition's content; the transition time and generation are filled in by nextStatus. */
export interface Verdict {
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

/**
 * What one reconcile learned. Absent fields keep their current value: a failed fetch leaves the
 * inventory, the applied revision and the Healthy verdict as the last sync left them.
 */
export interface StatusUpdate {
  readonly generation: number | undefined;
  readonly ready?: Verdict;
  readonly healthy?: Verdict;
  readonly lastAppliedRevision?: string;
  readonly lastAttemptedRevision?: string;
  /** With lastAppliedRevision, for a Helm GitSync. */
  readonly helm?: HelmReleaseStatus;
  readonly inventory?: readonly InventoryEntry[];
  /** When a sync (not a health look) finished. */
  readonly syncedAt?: number;
}

function withCondition(
  conditions: readonly Condition[],
  type: string,
  verdict: Verdict | undefined,
  update: { generation: number | undefined; now: number },
): Condition[] {
  if (verdict === undefined) return [...conditions];
  return setCondition(
    conditions,
    {
      type,
      ...verdict,
      ...(update.generation === undefined ? {} : { observedGeneration: update.generation }),
    },
    update.now,
  );
}

function defined<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/**
 * Drifted belongs to self-heal, which writes it under a field manager of its own; a sync's status
 * write never carries it (a stale copy would overwrite self-heal's).
 */
const SELF_HEAL_CONDITION = "Drifted";

function ownConditions(conditions: readonly Condition[] | undefined): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== SELF_HEAL_CONDITION);
}

/** The status after update; conditions of other types are carried over, Drifted left out. Pure. */
export function nextStatus(
  current: GitSyncStatus | undefined,
  update: StatusUpdate,
  now: number,
): GitSyncStatus {
  const base = current ?? {};
  const timing = { generation: update.generation, now };
  let conditions = withCondition(ownConditions(base.conditions), "Ready", update.ready, timing);
  conditions = withCondition(conditions, "Healthy", update.healthy, timing);
  return {
    ...defined("observedGeneration", update.generation ?? base.observedGeneration),
    ...defined("lastAppliedRevision", update.lastAppliedRevision ?? base.lastAppliedRevision),
    ...defined("helm", update.lastAppliedRevision === undefined ? base.helm : update.helm),
    ...defined("lastAttemptedRevision", update.lastAttemptedRevision ?? base.lastAttemptedRevision),
    ...defined(
      "lastSyncTime",
      update.syncedAt === undefined ? base.lastSyncTime : rfc3339(update.syncedAt),
    ),
    inventory: [...(update.inventory ?? base.inventory ?? [])],
    conditions,
  };
}

/** True when writing next would change nothing (so it is not written: no event loop). */
export function statusEqual(a: GitSyncStatus | undefined, b: GitSyncStatus): boolean {
  return (
    a !== undefined &&
    a.observedGeneration === b.observedGeneration &&
    a.lastAppliedRevision === b.lastAppliedRevision &&
    JSON.stringify(a.helm) === JSON.stringify(b.helm) &&
    a.lastAttemptedRevision === b.lastAttemptedRevision &&
    a.lastSyncTime === b.lastSyncTime &&
    inventoriesEqual(a.inventory, b.inventory) &&
    conditionsEqual(ownConditions(a.conditions), ownConditions(b.conditions))
  );
}
