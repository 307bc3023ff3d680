import type { KubeObject } from "../../kube/objects.js";

/**
 * Health of one live object, from what its controllers wrote into status. The rules follow
 * Argo CD's gitops-engine (pkg/health) where Argo and Flux's kstatus agree, and say which side
 * they take where they differ (see reconciler-and-drift.md §3). Pure: a live object in, a
 * verdict out.
 */
export type HealthStatus = "Healthy" | "Progressing" | "Degraded";

export interface Health {
  readonly status: HealthStatus;
  readonly message: string;
}

type Status = Record<string, unknown>;
interface StatusCondition {
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

const HEALTHY: Health = { status: "Healthy", message: "" };

function progressing(message: string): Health {
  return { status: "Progressing", message };
}

function degraded(message: string): Health {
  return { status: "Degraded", message };
}

function statusOf(obj: KubeObject): Status {
  const status = obj["status"];
  return typeof status === "object" && status !== null ? (status as Status) : {};
}

function specOf(obj: KubeObject): Status {
  const spec = obj["spec"];
  return typeof spec === "object" && spec !== null ? (spec as Status) : {};
}

function num(value: unknown, fallback = 0): number {
  return typeof value === "number" ? value : fallback;
}

function conditions(status: Status): StatusCondition[] {
  return Array.isArray(status["conditions"]) ? (status["conditions"] as StatusCondition[]) : [];
}

function condition(status: Status, type: string): StatusCondition | undefined {
  return conditions(status).find((c) => c.type === type);
}

/** The controller has not seen the latest spec yet: nothing in status can be trusted. */
function generationLag(obj: KubeObject, status: Status): Health | undefined {
  const generation = obj.metadata.generation;
  const observed = status["observedGeneration"];
  if (generation === undefined) return undefined;
  if (typeof observed !== "number" || observed < generation) {
    return progressing(`waiting for the controller to observe generation ${generation}`);
  }
  return undefined;
}

function deployment(obj: KubeObject): Health {
  const status = statusOf(obj);
  const spec = specOf(obj);
  if (spec["paused"] === true) return HEALTHY; // Argo: Suspended; a paused rollout is intended.
  const lag = generationLag(obj, status);
  if (lag !== undefined) return lag;
  if (condition(status, "Progressing")?.reason === "ProgressDeadlineExceeded") {
    return degraded(`rollout exceeded its progress deadline`);
  }
  const want = num(spec["replicas"], 1);
  const updated = num(status["updatedReplicas"]);
  const total = num(status["replicas"]);
  const available = num(status["availableReplicas"]);
  if (updated < want) return progressing(`${updated} of ${want} replicas updated`);
  if (total > updated) return progressing(`${total - updated} old replicas pending termination`);
  if (available < updated)
    return progressing(`${available} of ${updated} updated replicas available`);
  return HEALTHY;
}

function statefulSet(obj: KubeObject): Health {
  const status = statusOf(obj);
  const spec = specOf(obj);
  const lag = generationLag(obj, status);
  if (lag !== undefined) return lag;
  const strategy = (spec["updateStrategy"] ?? {}) as Status;
  if (strategy["type"] === "OnDelete") return HEALTHY;
  const want = num(spec["replicas"], 1);
  const ready = num(status["readyReplicas"]);
  if (ready < want) return progressing(`${ready} of ${want} replicas ready`);
  const partition = num(((strategy["rollingUpdate"] ?? {}) as Status)["partition"]);
  if (partition > 0) {
    const updated = num(status["updatedReplicas"]);
    return updated < want - partition
      ? progressing(`${updated} of ${want - partition} replicas updated (partitioned rollout)`)
      : HEALTHY;
  }
  if (status["updateRevision"] !== status["currentRevision"]) {
    return progressing(`rolling out revision ${String(status["updateRevision"])}`);
  }
  return HEALTHY;
}

function daemonSet(obj: KubeObject): Health {
  const status = statusOf(obj);
  const lag = generationLag(obj, status);
  if (lag !== undefined) return lag;
  if (((specOf(obj)["updateStrategy"] ?? {}) as Status)["type"] === "OnDelete") return HEALTHY;
  const desired = num(status["desiredNumberScheduled"]);
  const updated = num(status["updatedNumberScheduled"]);
  const available = num(status["numberAvailable"]);
  if (updated < desired) return progressing(`${updated} of ${desired} pods updated`);
  if (available < desired) return progressing(`${available} of ${desired} pods available`);
  return HEALTHY;
}

/** Job: Argo's rule (a running Job is Progressing); a PreSync hook needs Complete. */
function job(obj: KubeObject): Health {
  const status = statusOf(obj);
  const failed = condition(status, "Failed");
  if (failed?.status === "True") {
    return degraded(`job failed: ${failed.reason ?? ""} ${failed.message ?? ""}`.trim());
  }
  if (condition(status, "Complete")?.status === "True") return HEALTHY;
  if (condition(status, "Suspended")?.status === "True") return progressing("job is suspended");
  return progressing(
    `job running (${num(status["succeeded"])} succeeded, ${num(status["failed"])} failed)`,
  );
}

function persistentVolumeClaim(obj: KubeObject): Health {
  const phase = statusOf(obj)["phase"];
  if (phase === "Bound") return HEALTHY;
  if (phase === "Lost") return degraded("the claim lost its volume");
  return progressing(`claim is ${typeof phase === "string" ? phase : "not bound yet"}`);
}

function hasIngressAddress(status: Status): boolean {
  const lb = (status["loadBalancer"] ?? {}) as Status;
  return Array.isArray(lb["ingress"]) && lb["ingress"].length > 0;
}

function service(obj: KubeObject): Health {
  if (specOf(obj)["type"] !== "LoadBalancer") return HEALTHY;
  return hasIngressAddress(statusOf(obj))
    ? HEALTHY
    : progressing("waiting for a load balancer address");
}

function ingress(obj: KubeObject): Health {
  return hasIngressAddress(statusOf(obj))
    ? HEALTHY
    : progressing("waiting for an address from the ingress controller");
}

function customResourceDefinition(obj: KubeObject): Health {
  const status = statusOf(obj);
  const names = condition(status, "NamesAccepted");
  if (names?.status === "False") return degraded(`names not accepted: ${names.message ?? ""}`);
  if (condition(status, "Established")?.status === "True") return HEALTHY;
  return progressing("waiting to be Established");
}

function namespace(obj: KubeObject): Health {
  const phase = statusOf(obj)["phase"];
  if (phase === "Terminating") return progressing("namespace is terminating");
  return phase === "Active" ? HEALTHY : progressing("waiting to be Active");
}

/**
 * Any other kind: kstatus's generic rule. A status with observedGeneration behind, Ready=False
 * or Stalled=True is not healthy; an object without status (a ConfigMap) is healthy as applied.
 */
function generic(obj: KubeObject): Health {
  const status = statusOf(obj);
  if (typeof status["observedGeneration"] === "number") {
    const lag = generationLag(obj, status);
    if (lag !== undefined) return lag;
  }
  const stalled = condition(status, "Stalled");
  if (stalled?.status === "True") return degraded(stalled.message ?? "stalled");
  const ready = condition(status, "Ready");
  if (ready?.status === "False") return progressing(ready.message ?? "not ready");
  return HEALTHY;
}

const RULES: Readonly<Record<string, (obj: KubeObject) => Health>> = {
  Deployment: deployment,
  StatefulSet: statefulSet,
  DaemonSet: daemonSet,
  Job: job,
  PersistentVolumeClaim: persistentVolumeClaim,
  Service: service,
  Ingress: ingress,
  CustomResourceDefinition: customResourceDefinition,
  Namespace: namespace,
};

// Kinds with no status to wait for: healthy as soon as the API server accepted them.
const STATIC_KINDS = new Set([
  "ConfigMap",
  "Secret",
  "ServiceAccount",
  "Role",
  "RoleBinding",
  "ClusterRole",
  "ClusterRoleBinding",
  "LimitRange",
  "NetworkPolicy",
  "PriorityClass",
  "RuntimeClass",
  "StorageClass",
  "IngressClass",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
]);

/** True when health needs a fresh read of the live object (its status moves after apply). */
export function needsLiveHealth(kind: string): boolean {
  return !STATIC_KINDS.has(kind);
}

export function healthOf(obj: KubeObject): Health {
  if (obj.metadata.deletionTimestamp !== undefined) return progressing("being deleted");
  const rule = RULES[obj.kind] ?? generic;
  return rule(obj);
}
