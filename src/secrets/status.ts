/**
 * The SealedSecret's status: observedGeneration and one Synced condition whose message is the
 * sealing library's explanation (names, scopes, fingerprints; never a value). Pure.
 */
import { conditionsEqual, setCondition, type Condition } from "../runtime/conditions.js";
import { REASONS, SYNCED, type Reason } from "./names.js";
import type { SealedSecretObject } from "./render.js";

export interface SyncOutcome {
  readonly ok: boolean;
  readonly reason: Reason;
  readonly message: string;
}

export interface SealedSecretStatus {
  readonly observedGeneration?: number;
  readonly conditions: Condition[];
}

// The CRD caps condition messages at 32 KiB; one bad object with many items stays well below.
const MAX_MESSAGE = 8_192;

function clip(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE - 4)} ...`;
}

export function synced(
  secretName: string,
  wrote: "created" | "updated" | "unchanged",
): SyncOutcome {
  const what = wrote === "unchanged" ? "is up to date" : wrote;
  return { ok: true, reason: REASONS.unsealed, message: `Secret ${secretName} ${what}` };
}

export function failed(reason: Reason, message: string): SyncOutcome {
  return { ok: false, reason, message: clip(message) };
}

/** Why an existing Secret is left alone, and how to change that. */
export function notOwnedMessage(namespace: string, name: string): string {
  return (
    `Secret ${namespace}/${name} already exists and is not managed by this SealedSecret: it is ` +
    `left alone. Delete it, or annotate it sealedsecrets.bitnami.com/managed="true" to let the ` +
    `SealedSecret take it over`
  );
}

/**
 * The status to write, or undefined when the live one already says the same (a write per
 * reconcile would trigger another reconcile, forever).
 */
export function nextStatus(
  ss: SealedSecretObject,
  outcome: SyncOutcome,
  now: number,
): SealedSecretStatus | undefined {
  const generation = ss.metadata.generation;
  const live = ss.status?.conditions ?? [];
  const conditions = setCondition(
    live,
    {
      type: SYNCED,
      status: outcome.ok ? "True" : "False",
      reason: outcome.reason,
      message: outcome.message,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    },
    now,
  );
  const unchanged =
    conditionsEqual(conditions, live) && ss.status?.observedGeneration === generation;
  if (unchanged) return undefined;
  return generation === undefined ? { conditions } : { observedGeneration: generation, conditions };
}
