import type { KubeObject } from "../../kube/objects.js";
import { desiredKey } from "../desired.js";
import type { InventoryEntry } from "../gitsync.js";
import { OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL, PRUNE_ANNOTATION } from "../names.js";
import { applyPosition } from "./plan.js";

/**
 * Prune decisions, pure: what left Git, whether each live object may go, and the guard that
 * stops one sync from deleting too much of what the GitSync owns.
 */

/** Inventory entries no longer desired, in delete order (the reverse of apply order). */
export function pruneCandidates(
  previous: readonly InventoryEntry[],
  desiredKeys: ReadonlySet<string>,
): InventoryEntry[] {
  return previous
    .filter((entry) => !desiredKeys.has(desiredKey(entry)))
    .sort(
      (a, b) =>
        applyPosition(b.kind) - applyPosition(a.kind) ||
        (a.namespace ?? "").localeCompare(b.namespace ?? "") ||
        a.name.localeCompare(b.name),
    );
}

/**
 * - delete: still ours, prune allowed;
 * - gone: already deleted;
 * - disabled: annotated gitops-guard.io/prune=disabled, kept and no longer owned;
 * - foreign: its owner labels no longer name this GitSync (someone took it over), kept (Flux's rule).
 */
export type PruneVerdict = "delete" | "gone" | "disabled" | "foreign";

export function pruneVerdict(
  live: KubeObject | undefined,
  owner: { readonly namespace: string; readonly name: string },
): PruneVerdict {
  if (live === undefined) return "gone";
  if (live.metadata.annotations?.[PRUNE_ANNOTATION]?.toLowerCase() === "disabled")
    return "disabled";
  const labels = live.metadata.labels ?? {};
  if (
    labels[OWNER_NAME_LABEL] !== owner.name ||
    labels[OWNER_NAMESPACE_LABEL] !== owner.namespace
  ) {
    return "foreign";
  }
  return "delete";
}

export interface PruneGuardInput {
  /** Objects about to be deleted. */
  readonly deletions: number;
  /** Size of the inventory before this sync. */
  readonly inventory: number;
  /** spec.pruneGuard.maxPercent. */
  readonly maxPercent: number;
  /** The GitSync's prune-approved annotation names this sync's commit. */
  readonly approved: boolean;
}

/** Why the guard refused, or undefined when the deletions may go ahead. */
export function pruneGuard(input: PruneGuardInput): string | undefined {
  if (input.deletions === 0 || input.approved || input.inventory === 0) return undefined;
  const percent = (input.deletions * 100) / input.inventory;
  if (percent <= input.maxPercent) return undefined;
  return (
    `refusing to delete ${input.deletions} of ${input.inventory} objects (${Math.round(percent)}%), ` +
    `more than spec.pruneGuard.maxPercent (${input.maxPercent}%)`
  );
}

/** The prune-approved annotation approves commit when it names it (7 or more hex digits). */
export function pruneApproved(annotation: string | undefined, commit: string): boolean {
  const value = annotation?.trim().toLowerCase() ?? "";
  return /^[0-9a-f]{7,40}$/.test(value) && commit.startsWith(value);
}
