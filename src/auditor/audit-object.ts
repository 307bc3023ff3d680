import type { Informer } from "../kube/informer.js";
import { groupOf, parseKey, type KubeObject } from "../kube/objects.js";
import type { ResourceInfo } from "../kube/paths.js";
import type { Clock } from "../runtime/clock.js";
import type { Logger } from "../telemetry/log.js";
import { done, requeueAfter, type ReconcileResult } from "../runtime/result.js";
import { attribute, isReconcilerChange, type Attribution } from "./attribution/attribute.js";
import type { AdmissionFact, AuditFact } from "./attribution/facts.js";
import type { FactIndex } from "./attribution/index.js";
import { changedManagers } from "./attribution/managed-fields.js";
import type { BreakGlassBook } from "./break-glass.js";
import type { DriftTracker, Observation, PendingChange } from "./drift-tracker.js";
import type { DriftRecorder } from "./recorder.js";
import { isGuarded, kindId, objectId, type NamespaceLabels, type Scope } from "./scope.js";

// Namespaces whose objects are never drift: the control plane's and the product's own.
const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set([
  "kube-system",
  "kube-public",
  "kube-node-lease",
]);

export interface WatchedKind {
  readonly resource: ResourceInfo;
  readonly informer: Informer;
}

export interface AuditDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly scope: () => Scope;
  readonly kinds: ReadonlyMap<string, WatchedKind>;
  readonly tracker: DriftTracker;
  readonly recorder: DriftRecorder;
  readonly breakGlass: BreakGlassBook;
  readonly audit: FactIndex<AuditFact>;
  readonly admission: FactIndex<AdmissionFact>;
  /** An admission fact's Event already joined to a record (never joined twice). */
  readonly consumed?: (eventUid: string) => boolean;
  readonly productNamespace: string;
  /** How long an unattributed change waits for an audit event or admission Event to arrive. */
  readonly graceMs: number;
  /**
   * How long an unattributed deletion of an object the reconciler owns waits for the object to
   * leave its GitSync's inventory (a prune) before it is journaled as drift: the reconciler
   * writes the inventory after the prune and a health read. Default 10 s (at least graceMs).
   */
  readonly pruneWaitMs?: number;
  /** Namespace labels for policies' namespaceSelector. */
  readonly namespaceLabels: NamespaceLabels;
}

// The reconciler's owner labels (src/reconciler/names.ts, which the auditor must not import):
// it prunes only objects that carry both, and drops them from the GitSync's inventory after.
const OWNER_NAME_LABEL = "gitops-guard.io/gitsync-name";
/** A hook the reconciler deletes itself, by this policy (BeforeHookCreation, HookSucceeded, ...). */
const HOOK_DELETE_POLICY_ANNOTATION = "gitops-guard.io/hook-delete-policy";
const OWNER_NAMESPACE_LABEL = "gitops-guard.io/gitsync-namespace";
const DEFAULT_PRUNE_WAIT_MS = 10_000;

/** Work-queue keys: "group/Kind|namespace/name". */
export function queueKey(kind: string, key: string): string {
  return `${kind}|${key}`;
}

function inScope(obj: KubeObject, scope: Scope, deps: AuditDeps): boolean {
  const ns = obj.metadata.namespace;
  const group = groupOf(obj.apiVersion);
  if (scope.inventory.has(objectId(group, obj.kind, ns, obj.metadata.name ?? ""))) return true;
  if (ns !== undefined && (SYSTEM_NAMESPACES.has(ns) || ns === deps.productNamespace)) return false;
  return isGuarded(scope, obj, deps.namespaceLabels);
}

/**
 * A deletion the reconciler's prune explains: the object carries its owner labels, and the
 * GitSync they name no longer lists it (the object left Git). Anyone else's delete leaves the
 * object in the inventory, and self-heal re-creates it.
 */
function prunedFromGit(obj: KubeObject, id: string, scope: Scope): boolean {
  const labels = obj.metadata.labels ?? {};
  const name = labels[OWNER_NAME_LABEL];
  const namespace = labels[OWNER_NAMESPACE_LABEL];
  if (name === undefined || namespace === undefined) return false;
  const owner = scope.inventory.get(id)?.gitSync;
  return owner?.name !== name || owner.namespace !== namespace;
}

function attributionOf(
  deps: AuditDeps,
  watched: WatchedKind,
  obj: KubeObject,
  seen: Observation,
): Attribution {
  const { namespace, resourceVersion } = obj.metadata;
  const name = obj.metadata.name ?? "";
  const key = {
    group: groupOf(obj.apiVersion),
    kind: obj.kind,
    resource: watched.resource.plural,
    ...(namespace === undefined ? {} : { namespace }),
    name,
  };
  // A deletion writes no state: no resourceVersion or field manager can name its request.
  const deletion = seen.kind === "deleted";
  return attribute({
    object: key,
    ...(deletion || resourceVersion === undefined ? {} : { resourceVersion }),
    managers: deletion ? [] : changedManagers(seen.previous, obj),
    sinceMs: seen.previousMs ?? deps.clock.now(),
    observedMs: deps.clock.now(),
    audit: deps.audit.about(key),
    admission: deps.admission.about(key),
    paths: seen.changes.map((c) => c.path),
    ...(deps.consumed === undefined ? {} : { consumed: deps.consumed }),
    ...(deletion ? { deletion } : {}),
  });
}

/**
 * The reconcile of one object: classify its new state against the last one, attribute the
 * change, and record drift or heal. Level-triggered: it reads the informer's cache only.
 */
export function auditObject(deps: AuditDeps, key: string): ReconcileResult {
  const bar = key.indexOf("|");
  const kind = key.slice(0, bar);
  const ref = parseKey(key.slice(bar + 1));
  const watched = deps.kinds.get(kind);
  const obj = watched?.informer.get(ref.name, ref.namespace);
  const id = objectId(kind.split("/")[0] ?? "", kind.split("/")[1] ?? "", ref.namespace, ref.name);
  const scope = deps.scope();
  deps.breakGlass.note(id, obj);
  if (watched === undefined) {
    deps.tracker.forget(id);
    return done();
  }
  const target = { id, watched, scope };
  // Once deletion started (finalizers pending) the object is as good as gone: the delete is
  // the out-of-band act, and the finalizers' removal that follows is not drift of its own.
  const deleting = obj?.metadata.deletionTimestamp !== undefined;
  return obj === undefined || deleting
    ? auditDeletion(deps, target)
    : auditPresent(deps, target, obj);
}

function auditPresent(deps: AuditDeps, target: Target, obj: KubeObject): ReconcileResult {
  const { id, watched, scope } = target;
  if (!inScope(obj, scope, deps)) {
    deps.tracker.forget(id);
    return done();
  }
  const now = deps.clock.now();
  const held = deps.tracker.overtaken(id, obj);
  if (held !== undefined) {
    const wait = heldWaitMs(deps, target, held, now);
    if (wait > 0) return requeueAfter(wait);
    recordHeld(deps, target, held);
  }
  const ignore = scope.ignore.get(kindId(groupOf(obj.apiVersion), obj.kind)) ?? [];
  const seen = deps.tracker.observe(id, obj, now, { ignore });
  return settle(deps, { id, obj, watched, seen, scope, now });
}

/** A change whose previous state an earlier process kept: made while no auditor watched. */
function unwatched(seen: Observation): { unwatchedSinceMs?: number } {
  return seen.restored === true && seen.previousMs !== undefined
    ? { unwatchedSinceMs: seen.previousMs }
    : {};
}

interface Target {
  readonly id: string;
  readonly watched: WatchedKind;
  readonly scope: Scope;
}

/**
 * How much longer a held change the object has moved on from (self-heal undid it, often within
 * milliseconds) waits for its attribution: the admission fact is written after the webhook's
 * answer and can arrive after the heal. Newer states wait too, so the journal keeps its order.
 */
function heldWaitMs(deps: AuditDeps, target: Target, held: PendingChange, now: number): number {
  const left = held.sinceMs + deps.graceMs - now;
  if (left <= 0) return 0;
  const attribution = attributionOf(deps, target.watched, held.object, held.seen);
  return attribution.user === undefined ? Math.min(250, left) : 0;
}

/**
 * A held change the object has since moved on from (changed again, deleted, or re-created
 * after a held deletion): record it with what is known now.
 */
function recordHeld(deps: AuditDeps, target: Target, held: PendingChange): void {
  const deleted = held.seen.kind === "deleted";
  // Kept by a process that journaled it and died before it kept that it had: not twice.
  const journaled =
    held.seen.restored === true && deps.recorder.journaledState(held.object, deleted);
  if (journaled) {
    deps.tracker.markDrift(target.id, held.object, held.sinceMs);
    return;
  }
  const attribution = attributionOf(deps, target.watched, held.object, held.seen);
  deps.recorder.drift({
    object: held.object,
    changes: held.seen.changes,
    attribution,
    origin: target.scope.inventory.get(target.id),
    deleted,
    ...unwatched(held.seen),
  });
  deps.tracker.markDrift(target.id, held.object, held.sinceMs);
}

/** How long an unattributed deletion of obj waits for its attribution, or for its prune. */
function deletionWaitMs(deps: AuditDeps, obj: KubeObject): number {
  const owned = obj.metadata.labels?.[OWNER_NAME_LABEL] !== undefined;
  return owned ? Math.max(deps.graceMs, deps.pruneWaitMs ?? DEFAULT_PRUNE_WAIT_MS) : deps.graceMs;
}

/** An owned hook with a delete policy: the reconciler deletes it when the policy says so. */
function hookWithDeletePolicy(last: KubeObject): boolean {
  return (
    last.metadata.labels?.[OWNER_NAME_LABEL] !== undefined &&
    last.metadata.annotations?.[HOOK_DELETE_POLICY_ANNOTATION] !== undefined
  );
}

/**
 * The reconciler deleted it: its identity says so, the object left Git (a prune), or, with nobody
 * else named, it was a hook whose delete policy deletes it.
 */
function byReconciler(
  deps: AuditDeps,
  target: Target,
  last: KubeObject,
  attribution: Attribution,
): boolean {
  const unnamed = attribution.user === undefined;
  const pruned = unnamed && prunedFromGit(last, target.id, target.scope);
  const hook = unnamed && !pruned && hookWithDeletePolicy(last);
  if (!pruned && !hook && !isReconcilerChange(attribution, [], target.scope.reconcilers))
    return false;
  // Said once per deletion, at debug: which deletions were excused, and on what evidence.
  const by = pruned
    ? "a prune (it left its GitSync's inventory)"
    : hook
      ? "a hook's delete policy"
      : attribution.user?.username;
  deps.logger.debug({ object: target.id, by }, "deletion by the reconciler: not drift");
  return true;
}

/**
 * The object left the cache. The reconciler's deletes (its identity, or a prune of what left
 * Git) are forgotten; anyone else's is drift of the whole object, journaled against its last
 * state, and a re-creation as Git has it is then its heal.
 */
function auditDeletion(deps: AuditDeps, target: Target): ReconcileResult {
  const { id, scope } = target;
  const now = deps.clock.now();
  const held = deps.tracker.overtaken(id, undefined);
  if (held !== undefined) {
    const wait = heldWaitMs(deps, target, held, now);
    if (wait > 0) return requeueAfter(wait);
    recordHeld(deps, target, held);
  }
  const gone = deps.tracker.vanished(id);
  if (gone === undefined || gone.recorded) return done();
  const attribution = attributionOf(deps, target.watched, gone.last, gone.observation);
  // A prune may drop the object from the inventory (and so from scope) before this runs.
  if (byReconciler(deps, target, gone.last, attribution) || !inScope(gone.last, scope, deps)) {
    deps.tracker.forget(id);
    return done();
  }
  if (attribution.user === undefined) {
    const wait = deletionWaitMs(deps, gone.last);
    const waited = now - deps.tracker.hold(id, gone.last, gone.observation, now);
    if (waited < wait) return requeueAfter(Math.min(250, wait - waited));
  }
  const origin = scope.inventory.get(id);
  const changes = gone.observation.changes;
  deps.recorder.drift({
    object: gone.last,
    changes,
    attribution,
    origin,
    deleted: true,
    ...unwatched(gone.observation),
  });
  deps.tracker.markDeleted(id, now);
  return done();
}

interface Step {
  readonly id: string;
  readonly obj: KubeObject;
  readonly watched: WatchedKind;
  readonly seen: Observation;
  readonly scope: Scope;
  readonly now: number;
}

function recordHeal(deps: AuditDeps, step: Step, attribution: Attribution): void {
  deps.recorder.healed({
    object: step.obj,
    driftSinceMs: step.seen.driftSinceMs ?? step.now,
    nowMs: step.now,
    fieldManagers: attribution.fieldManagers,
    origin: step.scope.inventory.get(step.id),
  });
}

function settle(deps: AuditDeps, step: Step): ReconcileResult {
  const { id, obj, seen, now } = step;
  if (seen.kind === "first-seen" || seen.kind === "unchanged") return done();
  const attribution = attributionOf(deps, step.watched, obj, seen);
  if (seen.kind === "healed") {
    recordHeal(deps, step, attribution);
    deps.tracker.accept(id, obj, now);
    return done();
  }
  if (seen.kind === "noise") {
    deps.tracker.noise(id, obj, now);
    return done();
  }
  const managers = changedManagers(seen.previous, obj);
  if (isReconcilerChange(attribution, managers, step.scope.reconcilers)) {
    // Git moved on while the object was drifted: the reconciler's state replaces the drift.
    if (seen.driftSinceMs !== undefined) recordHeal(deps, step, attribution);
    deps.tracker.accept(id, obj, now);
    return done();
  }
  if (attribution.user === undefined) {
    const waited = now - deps.tracker.hold(id, obj, seen, now);
    if (waited < deps.graceMs) return requeueAfter(Math.min(250, deps.graceMs - waited));
  }
  recordDrift(deps, step, attribution);
  return done();
}

function recordDrift(deps: AuditDeps, step: Step, attribution: Attribution): void {
  const { id, obj, seen, now } = step;
  // Journaled by the process before this one, which died before it kept the drifted state.
  const journaled = seen.restored === true && deps.recorder.journaledState(obj, false);
  if (!journaled) {
    deps.recorder.drift({
      object: obj,
      changes: seen.changes,
      attribution,
      origin: step.scope.inventory.get(id),
      ...unwatched(seen),
    });
  }
  deps.tracker.markDrift(id, obj, now);
}
