import { findCondition } from "../runtime/conditions.js";
import type { DependencyRef, GitSyncObject } from "./gitsync.js";

export type GitSyncLookup = (namespace: string, name: string) => GitSyncObject | undefined;

function notReady(dep: DependencyRef, obj: GitSyncObject | undefined): string | undefined {
  const id = `GitSync ${dep.namespace}/${dep.name}`;
  if (obj === undefined) return `${id} does not exist`;
  const conditions = obj.status?.conditions;
  const ready = findCondition(conditions, "Ready");
  // A Ready computed for an older spec says nothing about the current one.
  if (ready?.status !== "True" || ready.observedGeneration !== obj.metadata.generation) {
    return `${id} is not Ready${ready === undefined ? "" : ` (${ready.reason})`}`;
  }
  const healthy = findCondition(conditions, "Healthy");
  if (healthy?.status !== "True") {
    return `${id} is not Healthy${healthy === undefined ? "" : ` (${healthy.message})`}`;
  }
  return undefined;
}

/**
 * Why this GitSync must wait for its dependencies (Flux's dependsOn: each must be Ready, and
 * here also Healthy, for its current generation), or undefined when it may go ahead. Pure.
 */
export function blockingDependencies(
  dependsOn: readonly DependencyRef[],
  lookup: GitSyncLookup,
): string | undefined {
  const blocked = dependsOn.flatMap((dep) => notReady(dep, lookup(dep.namespace, dep.name)) ?? []);
  return blocked.length === 0 ? undefined : `waiting for ${blocked.join("; ")}`;
}

/** The GitSyncs (as "namespace/name") that depend on the given one: woken when it changes. */
export function dependentsOf(
  target: { readonly namespace: string; readonly name: string },
  all: readonly GitSyncObject[],
): string[] {
  return all.flatMap((obj) => {
    const namespace = obj.metadata.namespace ?? "";
    const deps = (obj.spec?.["dependsOn"] ?? []) as { name?: string; namespace?: string }[];
    const wanted =
      Array.isArray(deps) &&
      deps.some((d) => d.name === target.name && (d.namespace ?? namespace) === target.namespace);
    return wanted ? [`${namespace}/${obj.metadata.name ?? ""}`] : [];
  });
}
