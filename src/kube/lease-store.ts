import type { LeaseRecord, LeaseStore } from "../runtime/leader.js";
import type { KubeClient } from "./client.js";
import type { KubeObject } from "./objects.js";

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

const LEASE = { apiVersion: "coordination.k8s.io/v1", kind: "Lease" } as const;

function toRecord(lease: KubeObject): LeaseRecord {
  const spec = (lease["spec"] ?? {}) as LeaseSpec;
  const record: { -readonly [K in keyof LeaseRecord]: LeaseRecord[K] } = {
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
  if (spec.holderIdentity !== undefined) record.holderIdentity = spec.holderIdentity;
  if (spec.acquireTime !== undefined) record.acquireTime = spec.acquireTime;
  if (spec.renewTime !== undefined) record.renewTime = spec.renewTime;
  if (lease.metadata.resourceVersion !== undefined)
    record.resourceVersion = lease.metadata.resourceVersion;
  return record;
}

function toLease(namespace: string, name: string, record: LeaseRecord): KubeObject {
  const { resourceVersion, ...spec } = record;
  const metadata =
    resourceVersion === undefined ? { name, namespace } : { name, namespace, resourceVersion };
  return { ...LEASE, metadata, spec };
}

/**
 * The election's LeaseStore on a coordination.k8s.io/v1 Lease. Updates are whole-object PUTs
 * with the read resourceVersion, so two candidates can never both win a write; the API server
 * answers the loser with 409, which the client reports as KUBE_CONFLICT.
 */
export function kubeLeaseStore(client: KubeClient, namespace: string, name: string): LeaseStore {
  return {
    async get() {
      const lease = await client.get({ ...LEASE, namespace, name });
      return lease === undefined ? undefined : toRecord(lease);
    },
    async create(record) {
      return toRecord(await client.create(toLease(namespace, name, record)));
    },
    async update(record) {
      return toRecord(await client.replace(toLease(namespace, name, record)));
    },
  };
}
