import { desiredKey } from "./desired.js";
import type { InventoryEntry } from "./gitsync.js";

/** The union of inventories, one entry per object (the later list's apiVersion wins), sorted. */
export function mergeInventory(...lists: readonly (readonly InventoryEntry[])[]): InventoryEntry[] {
  const byKey = new Map<string, InventoryEntry>();
  for (const list of lists) for (const entry of list) byKey.set(desiredKey(entry), entry);
  return [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, entry]) => entry);
}

/** True when both inventories list the same objects at the same apiVersions, in order. */
export function inventoriesEqual(
  a: readonly InventoryEntry[] | undefined,
  b: readonly InventoryEntry[] | undefined,
): boolean {
  const left = a ?? [];
  const right = b ?? [];
  return (
    left.length === right.length &&
    left.every((entry, i) => {
      const other = right[i];
      return (
        other !== undefined &&
        entry.apiVersion === other.apiVersion &&
        entry.kind === other.kind &&
        entry.namespace === other.namespace &&
        entry.name === other.name
      );
    })
  );
}

/** Entries as read from a GitSync's status, keeping only well-formed ones. */
export function readInventory(value: unknown): InventoryEntry[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown): InventoryEntry[] => {
    if (typeof item !== "object" || item === null) return [];
    const e = item as Record<string, unknown>;
    const [apiVersion, kind, name, namespace] = [
      e["apiVersion"],
      e["kind"],
      e["name"],
      e["namespace"],
    ];
    if (typeof apiVersion !== "string" || typeof kind !== "string" || typeof name !== "string")
      return [];
    return typeof namespace === "string" && namespace !== ""
      ? [{ apiVersion, kind, namespace, name }]
      : [{ apiVersion, kind, name }];
  });
}
