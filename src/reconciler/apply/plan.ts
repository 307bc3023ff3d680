import { ErrorCodes, GuardError } from "../../errors.js";
import type { DesiredObject } from "../desired.js";
import { locate } from "../render/manifests.js";
import {
  ARGO_SYNC_WAVE_ANNOTATION,
  HOOK_ANNOTATION,
  POSTSYNC_HOOK,
  PRESYNC_HOOK,
  SYNC_WAVE_ANNOTATION,
} from "../names.js";
import { deletePolicies, type HookPhase } from "./hook-policy.js";

/**
 * The order of a sync, as a pure function of the desired objects:
 * 1. definitions: Namespaces and CRDs, then waited for (Active, Established), since everything
 *    else may live in them or be one of their kinds;
 * 2. PreSync hooks: Jobs that must complete before the rest (schema migrations), by wave;
 * 3. waves in ascending order (gitops-guard.io/sync-wave, else Argo CD's sync-wave, else 0);
 *    a wave starts once the one before is healthy;
 * 4. last: admission webhooks and policies, so they never block the objects of their own sync;
 * 5. PostSync hooks, by wave, once everything before is healthy.
 * Inside a phase, objects go in kind order (Argo CD's list); objects of one kind rank are
 * independent and may be applied together.
 */
export type PhaseKind = "definitions" | "presync" | "wave" | "last" | "postsync";

export interface Phase {
  readonly kind: PhaseKind;
  /** The wave number for kind "wave"; 0 otherwise. */
  readonly wave: number;
  /** Batches in order; the objects of one batch do not depend on each other. */
  readonly batches: readonly (readonly DesiredObject[])[];
}

const DEFINITION_KINDS = new Set(["Namespace", "CustomResourceDefinition"]);
const LAST_KINDS = new Set([
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "MutatingAdmissionPolicy",
  "MutatingAdmissionPolicyBinding",
]);

// Argo CD's kind order (gitops-engine sync_tasks.go) with Flux's early classes added.
const KIND_ORDER = [
  "Namespace",
  "PriorityClass",
  "RuntimeClass",
  "NetworkPolicy",
  "ResourceQuota",
  "LimitRange",
  "PodSecurityPolicy",
  "PodDisruptionBudget",
  "ServiceAccount",
  "Secret",
  "ConfigMap",
  "StorageClass",
  "PersistentVolume",
  "PersistentVolumeClaim",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "Role",
  "RoleBinding",
  "Service",
  "DaemonSet",
  "Pod",
  "ReplicationController",
  "ReplicaSet",
  "Deployment",
  "HorizontalPodAutoscaler",
  "StatefulSet",
  "Job",
  "CronJob",
  "IngressClass",
  "Ingress",
  "APIService",
];
const RANK = new Map(KIND_ORDER.map((kind, i) => [kind, i]));

/** Position of kind in apply order; custom resources and unknown kinds come after all listed. */
export function kindRank(kind: string): number {
  return RANK.get(kind) ?? KIND_ORDER.length;
}

/**
 * Position of kind in the whole apply order (definitions first, admission last), for pruning
 * in reverse: webhooks go first, so they stop intercepting before what they guard goes.
 */
export function applyPosition(kind: string): number {
  if (kind === "Namespace") return 0;
  if (DEFINITION_KINDS.has(kind)) return 1;
  return LAST_KINDS.has(kind) ? KIND_ORDER.length + 3 : kindRank(kind) + 2;
}

function annotation(obj: DesiredObject, name: string): string | undefined {
  return obj.object.metadata.annotations?.[name];
}

/** The wave of an object; a value that is not an integer is an error naming the file. */
export function waveOf(obj: DesiredObject): number {
  const own = annotation(obj, SYNC_WAVE_ANNOTATION);
  const text = own ?? annotation(obj, ARGO_SYNC_WAVE_ANNOTATION);
  if (text === undefined) return 0;
  const wave = Number(text.trim());
  if (!Number.isSafeInteger(wave) || text.trim() === "") {
    const name = own === undefined ? ARGO_SYNC_WAVE_ANNOTATION : SYNC_WAVE_ANNOTATION;
    throw new GuardError(
      ErrorCodes.RENDER_OBJECT_INVALID,
      `${locate(obj)}: ${name} ${JSON.stringify(text)} on ${obj.ref.kind} ${obj.ref.name} is not an integer`,
    );
  }
  return wave;
}

/**
 * The hook phase of an object, or undefined for an ordinary one: usually a Job, and whatever it
 * needs first (a ServiceAccount, a ConfigMap), as Helm's hooks come. Any other value, or a delete
 * policy that is not one of Argo CD's three, is an error naming the file.
 */
export function hookOf(obj: DesiredObject): HookPhase | undefined {
  const hook = annotation(obj, HOOK_ANNOTATION);
  if (hook === undefined) return undefined;
  if (hook !== PRESYNC_HOOK && hook !== POSTSYNC_HOOK) {
    throw new GuardError(
      ErrorCodes.RENDER_OBJECT_INVALID,
      `${locate(obj)}: ${HOOK_ANNOTATION}=${hook} on ${obj.ref.kind} ${obj.ref.name}: ` +
        `only ${PRESYNC_HOOK} and ${POSTSYNC_HOOK} are supported`,
    );
  }
  deletePolicies(obj);
  return hook;
}

function byKindThenName(a: DesiredObject, b: DesiredObject): number {
  return (
    kindRank(a.ref.kind) - kindRank(b.ref.kind) ||
    a.ref.kind.localeCompare(b.ref.kind) ||
    (a.ref.namespace ?? "").localeCompare(b.ref.namespace ?? "") ||
    a.ref.name.localeCompare(b.ref.name)
  );
}

/** Sorted objects cut into batches of one kind rank. */
export function batches(objects: readonly DesiredObject[]): DesiredObject[][] {
  const sorted = [...objects].sort(byKindThenName);
  const out: DesiredObject[][] = [];
  let rank = -1;
  for (const obj of sorted) {
    const r = kindRank(obj.ref.kind);
    const current = out.at(-1);
    if (current === undefined || r !== rank) out.push([obj]);
    else current.push(obj);
    rank = r;
  }
  return out;
}

function phaseKindOf(obj: DesiredObject): PhaseKind {
  if (DEFINITION_KINDS.has(obj.ref.kind)) return "definitions";
  const hook = hookOf(obj);
  if (hook !== undefined) return hook === PRESYNC_HOOK ? "presync" : "postsync";
  return LAST_KINDS.has(obj.ref.kind) ? "last" : "wave";
}

export function planPhases(objects: readonly DesiredObject[]): Phase[] {
  const groups = new Map<string, { kind: PhaseKind; wave: number; objects: DesiredObject[] }>();
  for (const obj of objects) {
    const kind = phaseKindOf(obj);
    // Hooks run in waves of their own too (Helm's hook-weight), each waited for.
    const wave = kind === "wave" || kind === "presync" || kind === "postsync" ? waveOf(obj) : 0;
    const id = `${kind}:${wave}`;
    const group = groups.get(id) ?? { kind, wave, objects: [] };
    group.objects.push(obj);
    groups.set(id, group);
  }
  const order: Record<PhaseKind, number> = {
    definitions: 0,
    presync: 1,
    wave: 2,
    last: 3,
    postsync: 4,
  };
  return [...groups.values()]
    .sort((a, b) => order[a.kind] - order[b.kind] || a.wave - b.wave)
    .map((g) => ({ kind: g.kind, wave: g.wave, batches: batches(g.objects) }));
}
