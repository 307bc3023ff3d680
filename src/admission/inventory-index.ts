/**
 * Where an object lives in Git, from the GitSyncs' status.inventory: the locate() of
 * DecideContext. Keyed by API group, kind, namespace and name, not version: a request may use
 * another version of the kind than the reconciler applied.
 */
import { groupOf, type KubeObject, type ObjectRef } from "../kube/objects.js";
import type { GitLocation } from "./decision.js";

export type Locate = (ref: ObjectRef) => GitLocation | undefined;

function key(
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): string {
  return [groupOf(apiVersion), kind, namespace ?? "", name].join("\u0000");
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** "main@sha1:4f1c..." -> "4f1c..."; anything else as it is. */
export function commitOf(revision: string): string {
  const at = revision.lastIndexOf(":");
  return at >= 0 ? revision.slice(at + 1) : revision;
}

interface Source {
  readonly gitSync: { readonly namespace: string; readonly name: string };
  readonly url: string;
  readonly path: string;
  readonly revision?: string;
}

function sourceOf(gitSync: KubeObject): Source | undefined {
  const spec = record(gitSync["spec"]);
  const status = record(gitSync["status"]);
  // A chart alone (spec.helm.chart, no spec.url) is guarded too: its source is the chart.
  const chart = record(record(spec["helm"])["chart"]);
  const url = text(spec["url"]) ?? text(chart["repoURL"]);
  const name = gitSync.metadata.name;
  if (url === undefined || name === undefined) return undefined;
  const revision = text(status["lastAppliedRevision"]);
  return {
    gitSync: { namespace: gitSync.metadata.namespace ?? "", name },
    url,
    path:
      text(spec["url"]) === undefined ? (text(chart["name"]) ?? ".") : (text(spec["path"]) ?? "."),
    ...(revision === undefined ? {} : { revision: commitOf(revision) }),
  };
}

/** A GitSync's inventory entries: each object's index key, and its own file if it names one. */
export function inventoryEntries(
  gitSync: KubeObject,
): { readonly key: string; readonly path?: string }[] {
  const inventory = record(gitSync["status"])["inventory"];
  if (!Array.isArray(inventory)) return [];
  return inventory.map(record).flatMap((entry) => {
    const [apiVersion, kind, name] = [
      text(entry["apiVersion"]),
      text(entry["kind"]),
      text(entry["name"]),
    ];
    if (apiVersion === undefined || kind === undefined || name === undefined) return [];
    const path = text(entry["path"]);
    const k = key(apiVersion, kind, text(entry["namespace"]), name);
    return [path === undefined ? { key: k } : { key: k, path }];
  });
}

/** The index key of ref (by group, not version), as inventoryEntries gives it. */
export function refKey(ref: ObjectRef): string {
  return key(ref.apiVersion, ref.kind, ref.namespace, ref.name);
}

/** A locate() over the given GitSyncs; the first (by namespace/name) wins a shared object. */
export function buildLocator(gitSyncs: readonly KubeObject[]): Locate {
  const index = new Map<string, GitLocation>();
  const sorted = [...gitSyncs].sort((a, b) =>
    `${a.metadata.namespace ?? ""}/${a.metadata.name ?? ""}`.localeCompare(
      `${b.metadata.namespace ?? ""}/${b.metadata.name ?? ""}`,
    ),
  );
  for (const gitSync of sorted) {
    const source = sourceOf(gitSync);
    if (source === undefined) continue;
    for (const entry of inventoryEntries(gitSync)) {
      // An entry may name its own file, should the reconciler record one.
      if (!index.has(entry.key))
        index.set(entry.key, { ...source, path: entry.path ?? source.path });
    }
  }
  return (ref) => index.get(refKey(ref));
}
