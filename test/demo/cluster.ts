// The demo's view of the cluster: the example manifests with the demo's addresses filled in,
// and small readers for what each step waits on.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { EXAMPLES } from "./repo.js";

export const SYSTEM_NS = "gitops-guard-system";
export const GIT_SYNC = { apiVersion: "gitops-guard.io/v1alpha1", kind: "GitSync" } as const;

function example(path: string): KubeObject {
  return parse(readFileSync(join(EXAMPLES, path), "utf8")) as KubeObject;
}

/** examples/cluster/guardpolicy.yaml with its webhook sink pointed at the local receiver. */
export function guardPolicy(alertUrl: string): KubeObject {
  const policy = example("cluster/guardpolicy.yaml");
  const spec = policy["spec"] as { alerts: { url: string }[] };
  for (const sink of spec.alerts) sink.url = alertUrl;
  return policy;
}

/** examples/cluster/gitsync.yaml reading the local example repository. */
export function gitSync(repoDir: string): KubeObject {
  const sync = example("cluster/gitsync.yaml");
  (sync["spec"] as { url: string }).url = `file://${repoDir}`;
  return sync;
}

export function secret(name: string, namespace: string, data: Record<string, string>): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace },
    type: "Opaque",
    data: Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
    ),
  };
}

export interface SyncStatus {
  readonly lastAppliedRevision?: string;
  readonly inventory?: unknown[];
  readonly conditions?: { type: string; status: string; reason?: string }[];
}

export async function readySync(
  admin: KubeClient,
  revision?: string,
): Promise<SyncStatus | undefined> {
  const gs = await admin.get({ ...GIT_SYNC, namespace: SYSTEM_NS, name: "shop" });
  const status = gs?.["status"] as SyncStatus | undefined;
  const ready = status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
  const at = status?.lastAppliedRevision ?? "";
  return ready && (revision === undefined || at.includes(revision)) ? status : undefined;
}

export async function secretData(
  admin: KubeClient,
  namespace: string,
  name: string,
): Promise<Record<string, string> | undefined> {
  const s = await admin.get({ apiVersion: "v1", kind: "Secret", namespace, name });
  return s?.["data"] as Record<string, string> | undefined;
}

export async function configMapData(
  admin: KubeClient,
  name: string,
): Promise<Record<string, string> | undefined> {
  const cm = await admin.get({ apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name });
  return cm?.["data"] as Record<string, string> | undefined;
}

/** "token (19 bytes)": what a Secret holds, never its values. */
export function describeSecret(data: Record<string, string>): string {
  return Object.entries(data)
    .map(([k, v]) => `${k} (${String(Buffer.from(v, "base64").length)} bytes)`)
    .join(", ");
}

/** Asks the shop GitSync to sync now, as a push to /hooks/git does (a new requested-at). */
export async function requestShopSync(admin: KubeClient): Promise<void> {
  await admin.apply(
    {
      ...GIT_SYNC,
      metadata: {
        name: "shop",
        namespace: SYSTEM_NS,
        annotations: { "gitops-guard.io/requested-at": new Date().toISOString() },
      },
    },
    { fieldManager: "demo" },
  );
}
