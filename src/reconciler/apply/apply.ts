import { ErrorCodes, GuardError, errorMessage, isGuardError } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import { keyOf, type KubeObject, type ObjectMeta, type ObjectRef } from "../../kube/objects.js";
import { settleLimited } from "../concurrency.js";
import type { DesiredObject } from "../desired.js";
import { locate } from "../render/manifests.js";
import { immutableRefusal } from "./immutable.js";
import { sentDigest, unchangedLive, type CachedReader, type LastApply } from "./unchanged.js";

/** What one apply did, in Flux's words: new to the inventory, changed, or a no-op. */
export type ApplyAction = "created" | "configured" | "unchanged";

/** How one server-side apply went. */
export interface AppliedObject {
  readonly desired: DesiredObject;
  /** The object the server answered with: its identity and resourceVersion only (see kept). */
  readonly live: KubeObject;
  readonly action: ApplyAction;
  /** Digest of the body sent (or that would have been sent, when the apply was skipped). */
  readonly sent: string;
  /** Not sent: body and live object were those of the last apply (see Applier.cached). */
  readonly skipped?: true;
}

export interface Applier {
  readonly kube: KubeClient;
  /** Applies in flight at once within a batch. */
  readonly concurrency: number;
  /** What the last apply of each object sent and got back, by desired key (for "unchanged"). */
  readonly lastApplies: ReadonlyMap<string, LastApply>;
  /**
   * The self-heal watches' cache: with it, an object whose body and resourceVersion are those of
   * our last apply is not sent again (a no-change sync costs no apply).
   */
  readonly cached?: CachedReader;
  /** Desired keys of the inventory before this sync (for "created"). */
  readonly known: ReadonlySet<string>;
  /** What to send for an object (self-heal's ignored fields left out); default its desired state. */
  readonly shape?: (obj: DesiredObject) => KubeObject;
  /** The user kube impersonates (the GitSync's account); absent: the reconciler's own. */
  readonly actingAs?: string;
}

export function describeObject(ref: ObjectRef): string {
  return `${ref.kind} ${keyOf(ref)}`;
}

/** The API server's own words, without our "PATCH /apis/...: 422 Invalid" prefix. */
export function serverMessage(err: unknown): string {
  if (isGuardError(err) && typeof err.details["message"] === "string") {
    return err.details["message"];
  }
  return errorMessage(err);
}

/** Turns an apply failure into an error that names the object, its file and what to do. */
export function applyError(obj: DesiredObject, err: unknown): GuardError {
  const where = `${describeObject(obj.ref)} (${locate(obj)})`;
  const refusal = isGuardError(err) ? immutableRefusal(obj.ref, err.details) : undefined;
  if (refusal !== undefined) {
    return new GuardError(
      ErrorCodes.APPLY_IMMUTABLE_FIELD,
      `${where}: ${refusal.field} is immutable: ${refusal.migration}`,
      { cause: err, details: { field: refusal.field, object: describeObject(obj.ref) } },
    );
  }
  // Validation messages can embed a whole object dump; the head says what is wrong.
  const message = serverMessage(err).slice(0, 1500);
  // 403: the GitSync's account may not do this (the API server's message names user and verb).
  const code =
    isGuardError(err) && err.details["status"] === 403
      ? ErrorCodes.APPLY_FORBIDDEN
      : ErrorCodes.APPLY_FAILED;
  return new GuardError(code, `${where}: ${message}`, {
    cause: err,
    details: { object: describeObject(obj.ref) },
  });
}

/**
 * What is kept of an apply's answer: a sync reads its resourceVersion only ("unchanged", and the
 * next sync's lastVersions), and a sync of thousands of objects would otherwise hold every full
 * answer, managedFields and data included, until it ends.
 */
function kept(live: KubeObject): KubeObject {
  const fields = ["name", "namespace", "uid", "resourceVersion", "generation"] as const;
  const metadata = Object.fromEntries(
    fields.flatMap((f) => (live.metadata[f] === undefined ? [] : [[f, live.metadata[f]]])),
  ) as ObjectMeta;
  return { apiVersion: live.apiVersion, kind: live.kind, metadata };
}

export async function applyObject(applier: Applier, obj: DesiredObject): Promise<AppliedObject> {
  const body = applier.shape?.(obj) ?? obj.object;
  const sent = sentDigest(body, applier.actingAs);
  const last = applier.known.has(obj.key) ? applier.lastApplies.get(obj.key) : undefined;
  const same = unchangedLive(obj.ref, sent, last, applier.cached);
  if (same !== undefined)
    return { desired: obj, live: kept(same), action: "unchanged", sent, skipped: true };
  let live: KubeObject;
  try {
    live = kept(await applier.kube.apply(body, { force: true }));
  } catch (err: unknown) {
    throw applyError(obj, err);
  }
  if (!applier.known.has(obj.key)) return { desired: obj, live, action: "created", sent };
  const unchanged = last?.resourceVersion === live.metadata.resourceVersion;
  return { desired: obj, live, action: unchanged ? "unchanged" : "configured", sent };
}

/** One error for a batch: the first failure, with a count of the others. */
function batchError(failures: readonly GuardError[]): GuardError | undefined {
  const [first, ...rest] = failures;
  if (first === undefined) return undefined;
  if (rest.length === 0) return first;
  return new GuardError(first.code, `${first.message} (and ${rest.length} more failed)`, {
    cause: first,
    details: { ...first.details, failed: failures.length },
  });
}

/**
 * Applies the batches in order, the objects of one batch concurrently. A batch with a failure
 * stops the sync after the batch (the rest of it still applied), so the error lists what failed
 * and nothing later in the order is applied on top of a broken prerequisite.
 */
export async function applyBatches(
  applier: Applier,
  batches: readonly (readonly DesiredObject[])[],
  onApplied: (applied: AppliedObject) => void,
): Promise<void> {
  for (const batch of batches) {
    const outcomes = await settleLimited(batch, applier.concurrency, (obj) =>
      applyObject(applier, obj),
    );
    const failures: GuardError[] = [];
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") onApplied(outcome.value);
      else failures.push(outcome.reason as GuardError);
    }
    const error = batchError(failures);
    if (error !== undefined) throw error;
  }
}
