import type { Informer } from "../kube/informer.js";
import { groupOf, parseKey, type KubeObject } from "../kube/objects.js";
import type { ResourceInfo } from "../kube/paths.js";
import type { Clock } from "../runtime/clock.js";
import { done, requeueAfter, type ReconcileResult } from "../runtime/result.js";
import { attribute, isReconcilerChange, type Attribution } from "./attribution/attribute.js";
import type { AdmissionFact, AuditFact } from "./attribution/facts.js";
import type { FactIndex } from "./attribution/index.js";
import { changedManagers } from "./attribution/managed-fields.js";
import type { BreakGlassBook } from "./break-glass.js";
import type { DriftTracker, Observation } from "./drift-tracker.js";
import type { DriftRecorder } from "./recorder.js";
import { kindId, objectId, type Scope } from "./scope.js";

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
  readonly scope: () => Scope;
  readonly kinds: ReadonlyMap<string, WatchedKind>;
  readonly tracker: DriftTracker;
  readonly recorder: DriftRecorder;
  readonly breakGlass: BreakGlassBook;
  readonly audit: FactIndex<AuditFact>;
  readonly admission: FactIndex<AdmissionFact>;
  readonly productNamespace: string;
  /** How long an unattributed change waits for an audit event or admission Event to arrive. */
  readonly graceMs: number;
}

/** Work-queue keys: "group/Kind|namespace/name". */
export function queueKey(kind: string, key: string): string {
  return `${kind}|${key}`;
}

function inScope(obj: KubeObject, scope: Scope, productNamespace: string): boolean {
  const ns = obj.metadata.namespace;
  const group = groupOf(obj.apiVersion);
  if (scope.inventory.has(objectId(group, obj.kind, ns, obj.metadata.name ?? ""))) return true;
  if (ns !== undefined && (SYSTEM_NAMESPACES.has(ns) || ns === productNamespace)) return false;
  return scope.guardedKinds.has(kindId(group, obj.kind));
}

function attributionOf(
  deps: AuditDeps,
  watched: WatchedKind,
  obj: KubeObject,
  seen: Observation,
): Attribution {
  const { namespace } = obj.metadata;
  const name = obj.metadata.name ?? "";
  const key = {
    group: groupOf(obj.apiVersion),
    kind: obj.kind,
    resource: watched.resource.plural,
    ...(namespace === undefined ? {} : { namespace }),
    name,
  };
  return attribute({
    object: key,
    ...(obj.metadata.resourceVersion === undefined
      ? {}
      : { resourceVersion: obj.metadata.resourceVersion }),
    managers: changedManagers(seen.previous, obj),
    sinceMs: seen.previousMs ?? deps.clock.now(),
    observedMs: deps.clock.now(),
    audit: deps.audit.about(key),
    admission: deps.admission.about(key),
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
  if (watched === undefined || obj === undefined || !inScope(obj, scope, deps.productNamespace)) {
    deps.tracker.forget(id);
    return done();
  }
  const now = deps.clock.now();
  recordOvertaken(deps, { id, obj, watched, scope, now });
  const seen = deps.tracker.observe(id, obj, now, { ignore: scope.ignore.get(kind) ?? [] });
  return settle(deps, { id, obj, watched, seen, scope, now });
}

/** A held change the object has since moved on from: record it with what is known now. */
function recordOvertaken(deps: AuditDeps, step: Omit<Step, "seen">): void {
  const held = deps.tracker.overtaken(step.id, step.obj);
  if (held === undefined) return;
  const attribution = attributionOf(deps, step.watched, held.object, held.seen);
  const origin = step.scope.inventory.get(step.id);
  deps.recorder.drift({ object: held.object, changes: held.seen.changes, attribution, origin });
  deps.tracker.markDrift(step.id, held.object, held.sinceMs);
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
  const origin = step.scope.inventory.get(id);
  if (seen.kind === "healed") {
    recordHeal(deps, step, attribution);
    deps.tracker.accept(id, obj, now);
    return done();
  }
  if (seen.kind === "noise") {
    if (deps.tracker.isDrifted(id)) deps.tracker.seen(id, obj, now);
    else deps.tracker.accept(id, obj, now);
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
  deps.recorder.drift({ object: obj, changes: seen.changes, attribution, origin });
  deps.tracker.markDrift(id, obj, now);
  return done();
}
