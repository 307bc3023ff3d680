import { ErrorCodes, GuardError } from "../errors.js";
import { groupOf, refOf, type KubeObject, type ObjectRef } from "../kube/objects.js";
import type { InventoryEntry } from "./gitsync.js";
import { OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL } from "./names.js";
import { locate, type RenderedObject } from "./render/manifests.js";

/** One object as the cluster should have it, with where it came from in Git. */
export interface DesiredObject {
  readonly object: KubeObject;
  readonly ref: ObjectRef;
  /** desiredKey(ref): the identity used by the inventory, prune and (later) self-heal. */
  readonly key: string;
  readonly source: string;
  readonly line: number;
}

/** Whether each kind is namespaced, by "apiVersion/kind"; see scopeKey. */
export type Scopes = ReadonlyMap<string, boolean>;

export function scopeKey(type: { readonly apiVersion: string; readonly kind: string }): string {
  return `${type.apiVersion}/${type.kind}`;
}

/**
 * "group/Kind/namespace/name": the identity of an object across API versions (apps/v1 and a
 * future apps/v2 Deployment are the same object), as the API server stores it.
 */
export function desiredKey(ref: {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string | undefined;
  readonly name: string;
}): string {
  return `${groupOf(ref.apiVersion)}/${ref.kind}/${ref.namespace ?? ""}/${ref.name}`;
}

export function inventoryEntryOf(ref: ObjectRef): InventoryEntry {
  return ref.namespace === undefined
    ? { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name }
    : { apiVersion: ref.apiVersion, kind: ref.kind, namespace: ref.namespace, name: ref.name };
}

export interface DesiredOptions {
  /** The GitSync that owns the objects. */
  readonly owner: { readonly namespace: string; readonly name: string };
  readonly targetNamespace?: string;
  readonly scopes: Scopes;
}

function place(item: RenderedObject, options: DesiredOptions): KubeObject {
  const { object } = item;
  const namespaced = options.scopes.get(scopeKey(object));
  if (namespaced === undefined) {
    throw new GuardError(
      ErrorCodes.APPLY_KIND_UNKNOWN,
      `${locate(item)}: the API server does not serve ${object.kind} in ${object.apiVersion}, ` +
        "and no CustomResourceDefinition in this sync defines it",
    );
  }
  const { namespace: _ignored, ...metadata } = object.metadata;
  const labels = {
    ...metadata.labels,
    [OWNER_NAME_LABEL]: options.owner.name,
    [OWNER_NAMESPACE_LABEL]: options.owner.namespace,
  };
  if (!namespaced) return { ...object, metadata: { ...metadata, labels } };
  const namespace = options.targetNamespace ?? object.metadata.namespace ?? options.owner.namespace;
  return { ...object, metadata: { ...metadata, namespace, labels } };
}

/**
 * Puts every rendered object where it belongs (targetNamespace, else its own, else the GitSync's
 * namespace; cluster-scoped objects lose a stray namespace), labels it with its owner, and
 * refuses two definitions of one object. Pure.
 */
export function buildDesired(
  items: readonly RenderedObject[],
  options: DesiredOptions,
): DesiredObject[] {
  const seen = new Map<string, DesiredObject>();
  for (const item of items) {
    const object = place(item, options);
    const ref = refOf(object);
    const key = desiredKey(ref);
    const first = seen.get(key);
    if (first !== undefined) {
      throw new GuardError(
        ErrorCodes.RENDER_DUPLICATE_OBJECT,
        `${ref.kind} ${ref.namespace === undefined ? "" : `${ref.namespace}/`}${ref.name} is defined twice: ` +
          `${locate(first)} and ${locate(item)}`,
      );
    }
    seen.set(key, { object, ref, key, source: item.source, line: item.line });
  }
  return [...seen.values()];
}

/** CustomResourceDefinitions in a render: "apiVersion/kind" -> namespaced, for kinds not served yet. */
export function scopesFromCrds(items: readonly RenderedObject[]): Map<string, boolean> {
  const scopes = new Map<string, boolean>();
  for (const { object } of items) {
    if (object.kind !== "CustomResourceDefinition") continue;
    const spec = (object["spec"] ?? {}) as {
      group?: string;
      scope?: string;
      names?: { kind?: string };
      versions?: { name?: string }[];
    };
    const kind = spec.names?.kind;
    if (spec.group === undefined || kind === undefined) continue;
    for (const version of spec.versions ?? []) {
      const apiVersion = `${spec.group}/${version.name ?? ""}`;
      scopes.set(scopeKey({ apiVersion, kind }), spec.scope === "Namespaced");
    }
  }
  return scopes;
}
