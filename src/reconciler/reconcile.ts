import { ErrorCodes, isGuardError } from "../errors.js";
import { parseKey, type KubeObject } from "../kube/objects.js";
import { findCondition } from "../runtime/conditions.js";
import { done, isTerminalError, requeueAfter, type ReconcileResult } from "../runtime/result.js";
import type { Logger } from "../telemetry/log.js";
import type { Actor, GitSyncActors } from "./actors.js";
import { finalizationNote, finalizeGitSync } from "./deletion.js";
import { blockingDependencies, type GitSyncLookup } from "./dependencies.js";
import type { DesiredStateStore } from "./desired-store.js";
import type { DesiredObject } from "./desired.js";
import type { EventRecorder } from "./events.js";
import { addFinalizer, holdsFinalizer, removeFinalizer } from "./finalizer.js";
import {
  isFileUrl,
  parseGitSyncSpec,
  type GitSyncObject,
  type GitSyncSpec,
  type GitSyncStatus,
} from "./gitsync.js";
import { summarizeHealth } from "./health/aggregate.js";
import { readHealth } from "./health/read.js";
import { readInventory } from "./inventory.js";
import { memoryAfter, rememberResult } from "./remember.js";
import type { GitSyncMetrics } from "./metrics.js";
import type { OwnershipIndex } from "./ownership.js";
import { GITSYNC } from "./names.js";
import { healthVerdict, outcomeOf, type EventNote } from "./outcome.js";
import {
  annotationsOf,
  healthDelay,
  nextDelay,
  nextAction,
  type SyncMemory,
  type Timing,
} from "./schedule.js";
import { nextStatus, statusEqual, type StatusUpdate, type Verdict } from "./status.js";
import { syncGitSync, type SyncEnvironment } from "./sync.js";
import type { CachedReader } from "./apply/unchanged.js";
import { releaseOf } from "./apply/hook-policy.js";

/** What reconciling one GitSync needs; built once by the component. */
export interface ReconcileContext {
  readonly env: SyncEnvironment;
  readonly store: DesiredStateStore;
  readonly lookup: GitSyncLookup;
  readonly events: EventRecorder;
  readonly metrics: GitSyncMetrics;
  readonly logger: Logger;
  readonly timing: Timing;
  /**
   * What a sync applies for an object of a GitSync: self-heal leaves out ignored fields that
   * someone else changed (an HPA's /spec/replicas), so a sync does not undo them either.
   */
  readonly shape?: (gitSync: GitSyncObject, obj: DesiredObject) => KubeObject;
  /** Self-heal's watch cache: objects unchanged since our last apply are not sent again. */
  readonly cached?: CachedReader;
  /** Each GitSync's identity (spec.serviceAccountName, the default account, or ours). */
  readonly actors: GitSyncActors;
  /** Who owns which object, from every GitSync's inventory. */
  readonly ownership: OwnershipIndex;
  /** file:// repositories may be read (--allow-file-urls): tests and demos only. */
  readonly allowFileUrls: boolean;
}

interface Target {
  readonly key: string;
  readonly id: { readonly namespace: string; readonly name: string };
  readonly obj: GitSyncObject;
}

/** The GitSync's status as of our last write (the informer's copy may not have it yet). */
function currentStatus(ctx: ReconcileContext, target: Target): GitSyncStatus | undefined {
  return ctx.store.writtenStatus(target.key, target.obj.metadata.uid) ?? target.obj.status;
}

/**
 * Writes the status when it changed (an unchanged status is never written: no event loop). It is
 * skipped only when both our last write and the informer's copy already say the same.
 */
async function writeStatus(
  ctx: ReconcileContext,
  target: Target,
  update: StatusUpdate,
): Promise<void> {
  const base = currentStatus(ctx, target);
  const next = nextStatus(base, update, ctx.env.clock.now());
  if (statusEqual(base, next) && statusEqual(target.obj.status, next)) return;
  try {
    await ctx.env.kube.applyStatus({
      ...GITSYNC,
      metadata: { name: target.id.name, namespace: target.id.namespace },
      status: next,
    });
    ctx.store.rememberStatus(target.key, target.obj.metadata.uid, next);
  } catch (err: unknown) {
    // Deleted meanwhile: the informer's delete event cleans up.
    if (!isGuardError(err, ErrorCodes.KUBE_NOT_FOUND)) throw err;
  }
}

/** An Event when health flips: Degraded is a warning, recovery is news. */
function healthEvents(before: GitSyncStatus | undefined, after: Verdict | undefined): EventNote[] {
  const previous = findCondition(before?.conditions, "Healthy");
  if (after === undefined || previous?.status === after.status) return [];
  if (after.status === "True")
    return [{ type: "Normal", reason: "Healthy", message: after.message }];
  return after.reason === "Degraded"
    ? [{ type: "Warning", reason: "HealthDegraded", message: after.message }]
    : [];
}

async function recordEvents(
  ctx: ReconcileContext,
  target: Target,
  notes: readonly EventNote[],
): Promise<void> {
  for (const note of notes) {
    const log = { gitSync: target.key, reason: note.reason, message: note.message };
    if (note.type === "Warning") ctx.logger.warn(log, "gitsync");
    else ctx.logger.info(log, "gitsync");
    await ctx.events.record(target.obj, note);
  }
}

async function failSpec(
  ctx: ReconcileContext,
  target: Target,
  reason: string,
  message: string,
): Promise<void> {
  const ready: Verdict = { status: "False", reason, message };
  await writeStatus(ctx, target, { generation: target.obj.metadata.generation, ready });
  ctx.metrics.ready(target.id, "False");
  await recordEvents(ctx, target, [{ type: "Warning", reason, message }]);
}

async function healthPass(
  ctx: ReconcileContext,
  target: Target,
  spec: GitSyncSpec,
  { memory, actor }: { readonly memory: SyncMemory; readonly actor: Actor },
): Promise<ReconcileResult> {
  const now = ctx.env.clock.now();
  if (memory.healthy) return requeueAfter(healthDelay(memory, spec.intervalMs, now, ctx.timing));
  const refs = [...ctx.store.desiredOf(target.key).values()].map((d) => d.ref);
  const summary = summarizeHealth(await readHealth(actor.read, refs, ctx.env.concurrency));
  const next = { ...memory, healthy: summary.status === "Healthy" };
  ctx.store.remember(target.key, next);
  const healthy = healthVerdict(summary);
  const before = currentStatus(ctx, target);
  await writeStatus(ctx, target, { generation: target.obj.metadata.generation, healthy });
  await recordEvents(ctx, target, healthEvents(before, healthy));
  return requeueAfter(healthDelay(next, spec.intervalMs, ctx.env.clock.now(), ctx.timing));
}

function shapeFor(
  shape: NonNullable<ReconcileContext["shape"]>,
  gitSync: GitSyncObject,
): (obj: DesiredObject) => KubeObject {
  return (obj) => shape(gitSync, obj);
}

/** The release the status says was applied in full, for hooks that ran for it. */
function appliedRelease(status: GitSyncStatus | undefined): { appliedRelease?: string } {
  const revision = status?.lastAppliedRevision;
  return revision === undefined ? {} : { appliedRelease: releaseOf(revision, status?.helm) };
}

/** A sync; resume applies the revision a waiting sync already rendered, without fetching. */
async function sync(
  ctx: ReconcileContext,
  target: Target,
  spec: GitSyncSpec,
  run: { readonly signal: AbortSignal; readonly resume: boolean; readonly actor: Actor },
): Promise<ReconcileResult> {
  const memory = ctx.store.memory(target.key);
  const rendered = run.resume ? ctx.store.rendered(target.key) : undefined;
  const before = currentStatus(ctx, target);
  const result = await syncGitSync(ctx.env, {
    ...target.id,
    spec,
    previous: readInventory(before?.inventory),
    pruneApproval: annotationsOf(target.obj).pruneApproval,
    lastApplies: ctx.store.lastApplies(target.key),
    hooksDone: (release) => ctx.store.hooksDone(target.key, release),
    ...appliedRelease(before),
    ...(ctx.cached === undefined ? {} : { cached: ctx.cached }),
    signal: run.signal,
    actor: run.actor,
    conflicts: (entries) => ctx.ownership.conflicts(target.key, entries),
    ...(rendered === undefined ? {} : { rendered }),
    ...(ctx.shape === undefined ? {} : { shape: shapeFor(ctx.shape, target.obj) }),
  });
  rememberResult(ctx.store, target.key, result);
  ctx.metrics.applies(target.id, result.applied);
  const outcome = outcomeOf(result, target.id, target.obj.metadata.generation);
  const now = ctx.env.clock.now();
  const next = memoryAfter(target.obj, memory, {
    ...outcome,
    end: result.kind,
    now,
    fetched: rendered === undefined,
  });
  ctx.store.remember(target.key, next);
  await writeStatus(ctx, target, { ...outcome.status, syncedAt: now });
  await recordEvents(ctx, target, [
    ...outcome.events,
    ...healthEvents(before, outcome.status.healthy),
  ]);
  ctx.metrics.ready(target.id, outcome.status.ready?.status ?? "Unknown");
  if (outcome.complete && result.kind === "synced")
    ctx.metrics.revision(target.id, result.fetched.revision);
  return requeueAfter(nextDelay(result.kind, next, spec.intervalMs, ctx.timing));
}

/** Why spec.url may not be read: a file:// URL reads the controller's own disk. */
function fileUrlRefusal(spec: GitSyncSpec, allowed: boolean): string | undefined {
  if (spec.url === undefined || !isFileUrl(spec.url) || allowed) return undefined;
  return (
    `spec.url ${spec.url} reads the controller's own disk: file:// repositories are refused ` +
    "unless the controller runs with --allow-file-urls (tests and demos only)"
  );
}

async function reconcileTarget(
  ctx: ReconcileContext,
  target: Target,
  signal: AbortSignal,
): Promise<ReconcileResult> {
  let spec: GitSyncSpec;
  try {
    spec = parseGitSyncSpec(target.obj);
  } catch (err: unknown) {
    if (!isTerminalError(err)) throw err;
    // Only a change to the spec can fix it, and that change wakes this key again.
    await failSpec(ctx, target, "InvalidSpec", err.message);
    return done();
  }
  const refusal = fileUrlRefusal(spec, ctx.allowFileUrls);
  if (refusal !== undefined) {
    await failSpec(ctx, target, "FileURLNotAllowed", refusal);
    return done();
  }
  if (spec.suspend) return done();
  if (!holdsFinalizer(target.obj)) await addFinalizer(ctx.env.kube, target.obj);
  const actor = ctx.actors.for(target.key, target.id.namespace, spec);
  const blocked = blockingDependencies(spec.dependsOn, ctx.lookup);
  if (blocked !== undefined) {
    const ready: Verdict = { status: "False", reason: "DependencyNotReady", message: blocked };
    await writeStatus(ctx, target, { generation: target.obj.metadata.generation, ready });
    ctx.metrics.ready(target.id, "False");
    await recordEvents(ctx, target, [{ type: "Normal", reason: ready.reason, message: blocked }]);
    return requeueAfter(Math.min(ctx.timing.dependencyRequeueMs, spec.intervalMs));
  }
  const memory = ctx.store.memory(target.key);
  const action = nextAction(memory, target.obj, spec.intervalMs, ctx.env.clock.now());
  if (action === "health" && memory !== undefined)
    return healthPass(ctx, target, spec, { memory, actor });
  return sync(ctx, target, spec, { signal, resume: action === "resume", actor });
}

function forget(ctx: ReconcileContext, key: string, id: Target["id"]): void {
  ctx.store.forget(key);
  ctx.events.forget(key);
  ctx.metrics.forget(id);
  ctx.actors.release(key);
}

/**
 * A GitSync being deleted: prune what it applied as its own account (or leave it, as
 * deletionPolicy or circumstance says), then let it go. A refusal (the prune guard) waits for
 * an annotation or spec change; a failure is retried.
 */
async function finalize(ctx: ReconcileContext, target: Target): Promise<ReconcileResult> {
  if (!holdsFinalizer(target.obj)) {
    forget(ctx, target.key, target.id);
    return done();
  }
  // No longer Git's to heal: were self-heal still to hold its desired state, it would put back
  // each object the prune below deletes (a deletion is drift to it).
  ctx.store.forget(target.key);
  const spec = ((): Pick<GitSyncSpec, "serviceAccountName"> => {
    try {
      return parseGitSyncSpec(target.obj);
    } catch {
      // An invalid spec still names (or not) its account; read it as it is.
      const named = (target.obj.spec ?? {})["serviceAccountName"];
      return typeof named === "string" && named !== "" ? { serviceAccountName: named } : {};
    }
  })();
  const actor = ctx.actors.for(target.key, target.id.namespace, spec);
  const finalization = await finalizeGitSync(
    { kube: ctx.env.kube, actor, concurrency: ctx.env.concurrency },
    target.obj,
  );
  const generation = target.obj.metadata.generation;
  if (finalization.kind === "refused" || finalization.kind === "failed") {
    const ready = finalization.verdict;
    await writeStatus(ctx, target, { generation, ready });
    await recordEvents(ctx, target, [
      { type: "Warning", reason: ready.reason, message: ready.message },
    ]);
    return finalization.kind === "failed" ? requeueAfter(ctx.timing.retryBaseMs) : done();
  }
  const note = finalizationNote(finalization);
  if (note !== undefined) await recordEvents(ctx, target, [note]);
  try {
    await removeFinalizer(ctx.env.kube, target.obj);
  } catch (err: unknown) {
    if (!isGuardError(err, ErrorCodes.KUBE_NOT_FOUND)) throw err;
  }
  ctx.logger.info({ gitSync: target.key, outcome: finalization.kind }, "gitsync deleted");
  forget(ctx, target.key, target.id);
  return done();
}

/** Reconciles the GitSync with this work-queue key ("namespace/name") from the informer cache. */
export async function reconcileGitSync(
  ctx: ReconcileContext,
  key: string,
  signal: AbortSignal,
): Promise<ReconcileResult> {
  const { namespace = "", name } = parseKey(key);
  const obj = ctx.lookup(namespace, name);
  const id = { namespace, name };
  if (obj === undefined) {
    // Gone: its finalizer (if it had ours) already pruned or orphaned its objects.
    forget(ctx, key, id);
    return done();
  }
  if (obj.metadata.deletionTimestamp !== undefined) return finalize(ctx, { key, id, obj });
  const started = ctx.env.clock.now();
  try {
    return await reconcileTarget(ctx, { key, id, obj }, signal);
  } finally {
    ctx.metrics.observeDuration(id, (ctx.env.clock.now() - started) / 1000);
  }
}
