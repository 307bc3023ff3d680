/**
 * reconcile(key) for one SealedSecret, level-triggered: read it and its Secret from the
 * caches (a Secret without the owned label from the API server), unseal with every key held,
 * apply the Secret (server-side apply, owner reference, owned label) when it differs, and say
 * what happened in status, an Event and the metrics.
 */
import {
  BITNAMI_API_VERSION,
  readSealedSecret,
  type SealedSecret,
} from "../crypto/sealing/sealed-secret.js";
import type { UnsealedSecret, UnsealOptions } from "../crypto/sealing/unseal.js";
import { ErrorCodes, GuardError, errorMessage, isGuardError } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import type { Informer } from "../kube/informer.js";
import { parseKey, refOf, type KubeObject } from "../kube/objects.js";
import { isInvalidField } from "../kube/status-errors.js";
import type { Clock } from "../runtime/clock.js";
import { done, TerminalError, type ReconcileResult } from "../runtime/result.js";
import type { Logger } from "../telemetry/log.js";
import { unsealedNote, type EventRecorder } from "./events.js";
import type { KeyStore } from "./keys.js";
import { reasonLabel, type KeyUsage, type SecretsMetrics } from "./metrics.js";
import { REASONS } from "./names.js";
import {
  desiredSecret,
  ownership,
  secretDigest,
  secretUpToDate,
  type SealedSecretObject,
} from "./render.js";
import type { SecretReader } from "./secret-watches.js";
import type { Unsealer } from "./unseal-pool.js";
import { failed, nextStatus, notOwnedMessage, synced, type SyncOutcome } from "./status.js";

export interface ReconcileDeps {
  readonly kube: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly sealedSecrets: Informer<SealedSecretObject>;
  /** The live Secrets: owned ones from the cache, any other read when it exists. */
  readonly secrets: SecretReader;
  readonly keys: KeyStore;
  readonly events: EventRecorder;
  /** Record a Normal Event when a Secret is written. */
  readonly successEvents: boolean;
  readonly metrics: SecretsMetrics;
  /** SealedSecret key -> secretDigest of the Secret it wants (skips the echo of its writes). */
  readonly written: Map<string, string>;
  /** Which keys each SealedSecret depends on. */
  readonly usage: KeyUsage;
  /** Opens SealedSecrets: on worker threads, or inline. */
  readonly unsealer: Unsealer;
}

interface Run {
  readonly deps: ReconcileDeps;
  readonly key: string;
  readonly obj: SealedSecretObject;
}

// How many other SealedSecrets of the namespace a failed unseal compares labels with.
const DIAGNOSIS_PEERS = 50;

/** Writes the status when it changed, and records the metric and Event of a failure. */
async function finish(run: Run, outcome: SyncOutcome, metricReason: string): Promise<void> {
  const { deps, obj } = run;
  deps.metrics.unseal.inc({ result: outcome.ok ? "success" : "failure", reason: metricReason });
  if (!outcome.ok) {
    await deps.events.record(obj, {
      type: "Warning",
      reason: outcome.reason,
      message: outcome.message,
    });
  }
  const status = nextStatus(obj, outcome, deps.clock.now());
  if (status === undefined) return;
  try {
    await deps.kube.patchStatus(
      {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: obj.metadata.namespace ?? "",
        name: obj.metadata.name ?? "",
      },
      status,
    );
  } catch (err: unknown) {
    deps.metrics.unseal.inc({ result: "failure", reason: "status" });
    // A vanished SealedSecret needs no status; anything else is retried.
    if (!isGuardError(err, ErrorCodes.KUBE_NOT_FOUND)) throw err;
  }
}

/** Fails the reconcile for good (until the object or the keys change), status first. */
async function terminal(run: Run, outcome: SyncOutcome, metricReason: string): Promise<never> {
  await finish(run, outcome, metricReason);
  throw new TerminalError(outcome.message, { code: metricReason });
}

function parse(run: Run): SealedSecret | SyncOutcome {
  try {
    return readSealedSecret(run.obj, `SealedSecret ${run.key}`);
  } catch (err: unknown) {
    return failed(REASONS.invalid, errorMessage(err));
  }
}

function peers(run: Run, ss: SealedSecret): { namespace: string; name: string }[] {
  const namespace = ss.metadata.namespace ?? "";
  return run.deps.sealedSecrets
    .list(namespace)
    .filter((o) => o.metadata.name !== ss.metadata.name)
    .slice(0, DIAGNOSIS_PEERS)
    .map((o) => ({ namespace, name: o.metadata.name ?? "" }));
}

/**
 * Opens the SealedSecret on the unseal threads. The other SealedSecrets of the namespace only
 * help explain a failure (a value copied from one of them), so they are listed, and the
 * library run again with them, only when opening failed: on the unseal threads too, as the
 * explanation tries every key against several places (RSA each time), which on the event loop
 * cost about 20 ms per failed SealedSecret.
 */
async function unseal(run: Run, ss: SealedSecret): Promise<UnsealedSecret | GuardError> {
  const uid = run.obj.metadata.uid;
  const options: UnsealOptions = {
    keyring: run.deps.keys.keyring,
    // Bitnami's controller opens the deprecated v1 form by default; so does our opt-in.
    acceptV1Data: ss.apiVersion === BITNAMI_API_VERSION,
    ...(uid === undefined ? {} : { ownerUid: uid }),
  };
  try {
    return await run.deps.unsealer.unseal(ss, options);
  } catch (err: unknown) {
    if (!(err instanceof GuardError) || err.code === ErrorCodes.INTERNAL) throw err;
  }
  try {
    return await run.deps.unsealer.unseal(ss, { ...options, otherObjects: peers(run, ss) });
  } catch (err: unknown) {
    // INTERNAL: an unseal thread stopped; the controller retries.
    if (err instanceof GuardError && err.code !== ErrorCodes.INTERNAL) return err;
    throw err;
  }
}

function extraItems(applied: KubeObject, desired: KubeObject): string[] {
  const want = (desired["data"] ?? {}) as Record<string, string>;
  return Object.keys((applied["data"] ?? {}) as Record<string, string>).filter((k) => !(k in want));
}

// What no update of a Secret can change (ValidateSecretUpdate): its data while `immutable` is
// set, that flag once true, and its type. Until the Secret is deleted, a retry fails the same.
const FIXED_SECRET_FIELDS = ["data", "immutable", "type"];

/**
 * True when the API server refused the Secret for good: a 422 Invalid on one of those fields.
 * Anything else (a 503, a timeout, a conflict) is retried with backoff.
 */
export function refusedForGood(err: unknown): boolean {
  return isInvalidField(err, FIXED_SECRET_FIELDS);
}

/**
 * Applies the Secret and returns it as written (its uid and resourceVersion name the write in
 * the Unsealed Event); an immutable Secret that would change is a terminal failure.
 */
async function write(run: Run, desired: KubeObject): Promise<KubeObject> {
  const { deps, key } = run;
  try {
    const applied = await deps.kube.apply(desired);
    // Items another writer added stay after an apply (they are its fields): remove them, as
    // the Secret holds exactly what the SealedSecret says.
    const extra = extraItems(applied, desired);
    if (extra.length === 0) return applied;
    const data = Object.fromEntries(extra.map((k) => [k, null]));
    return await deps.kube.mergePatch(refOf(applied), { data });
  } catch (err: unknown) {
    const message = `cannot write Secret ${key}: ${errorMessage(err)}`;
    if (refusedForGood(err)) return terminal(run, failed(REASONS.writeFailed, message), "update");
    await finish(run, failed(REASONS.writeFailed, message), "update");
    throw new GuardError(ErrorCodes.SECRETS_WRITE_FAILED, message, { cause: err });
  }
}

function forget(deps: ReconcileDeps, key: string): void {
  deps.written.delete(key);
  deps.usage.delete(key);
  deps.events.forget(key);
}

/**
 * Writes the Secret when it differs, then reports success. Only a write gets the Unsealed
 * Event (the auditor's secret-materialised record): a resync that finds the Secret up to date
 * gets none.
 */
async function apply(
  run: Run,
  unsealed: UnsealedSecret,
  live: KubeObject | undefined,
): Promise<void> {
  const desired = desiredSecret(unsealed.secret);
  run.deps.written.set(run.key, secretDigest(desired));
  const upToDate = secretUpToDate(live, desired);
  const written = upToDate ? undefined : await write(run, desired);
  const wrote = upToDate ? "unchanged" : live === undefined ? "created" : "updated";
  await finish(run, synced(run.key, wrote), "ok");
  if (written === undefined || !run.deps.successEvents) return;
  await run.deps.events.record(
    run.obj,
    unsealedNote({
      key: run.key,
      created: live === undefined,
      secret: written,
      keys: new Set(unsealed.openedWith.values()),
    }),
  );
}

export async function reconcileSealedSecret(
  deps: ReconcileDeps,
  key: string,
): Promise<ReconcileResult> {
  const { namespace = "", name } = parseKey(key);
  const obj = deps.sealedSecrets.get(name, namespace);
  if (obj === undefined || obj.metadata.deletionTimestamp !== undefined) {
    // The garbage collector removes the Secret through its owner reference.
    forget(deps, key);
    return done();
  }
  const run: Run = { deps, key, obj };
  const ss = parse(run);
  if (!("spec" in ss)) return terminal(run, ss, "invalid");
  const live = await deps.secrets.live(name, namespace);
  if (ownership(live, ss) === "foreign") {
    const message = notOwnedMessage(namespace, name);
    return terminal(run, failed(REASONS.notOwned, message), "unmanaged");
  }
  const unsealed = await unseal(run, ss);
  if (unsealed instanceof GuardError) {
    return terminal(
      run,
      failed(REASONS.unsealFailed, unsealed.message),
      reasonLabel(unsealed.code),
    );
  }
  deps.usage.set(key, new Set(unsealed.openedWith.values()));
  await apply(run, unsealed, live);
  return done();
}
