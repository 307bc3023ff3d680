import { errorMessage } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import type { KubeObject } from "../kube/objects.js";
import type { Actor } from "./actors.js";
import { prune, type PruneGuardSettings, type PruneResult } from "./apply/prune.js";
import { pruneApproved, pruneCandidates, pruneVerdict } from "./apply/prune-plan.js";
import { settleLimited } from "./concurrency.js";
import { commitOf, type GitSyncObject, type InventoryEntry } from "./gitsync.js";
import { readInventory } from "./inventory.js";
import { OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL, PRUNE_APPROVED_ANNOTATION } from "./names.js";
import type { EventNote } from "./outcome.js";
import type { Verdict } from "./status.js";

/** What deleting a GitSync comes to. */
export type Finalization =
  | {
      readonly kind: "orphaned";
      readonly why: string;
      readonly count: number;
      /** Owner labels taken off (so nothing guards them as this GitSync's any more). */
      readonly released: number;
    }
  | { readonly kind: "pruned"; readonly result: PruneResult }
  | { readonly kind: "refused"; readonly verdict: Verdict }
  | { readonly kind: "failed"; readonly verdict: Verdict };

export interface FinalizeDeps {
  /** The controller's own client: namespaces and service accounts are looked up with it. */
  readonly kube: KubeClient;
  readonly actor: Actor;
  readonly concurrency: number;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

/**
 * Why the objects stay (spec says so, or pruning cannot work: the namespace is going away with
 * the account and its RoleBindings, or the account is gone), or undefined to prune them.
 */
async function orphanReason(deps: FinalizeDeps, obj: GitSyncObject): Promise<string | undefined> {
  const spec = record(obj.spec);
  if (spec["deletionPolicy"] === "Orphan") return "spec.deletionPolicy is Orphan";
  if (spec["prune"] === false) return "spec.prune is false";
  if (spec["suspend"] === true) return "the GitSync is suspended";
  const namespace = obj.metadata.namespace ?? "";
  const ns = await deps.kube.get<KubeObject>({
    apiVersion: "v1",
    kind: "Namespace",
    name: namespace,
  });
  if (ns?.metadata.deletionTimestamp !== undefined)
    return `namespace ${namespace} is being deleted (its objects go with it)`;
  const account = deps.actor.account;
  if (account === undefined) return undefined;
  const sa = await deps.kube.get({
    apiVersion: "v1",
    kind: "ServiceAccount",
    namespace: account.namespace,
    name: account.name,
  });
  return sa === undefined
    ? `its service account ${account.namespace}/${account.name} no longer exists`
    : undefined;
}

/**
 * Takes the owner labels off objects left behind by choice, as the GitSync's account: they are
 * no longer this GitSync's (admission and the backstop stop guarding them as such). Best effort:
 * an object that cannot be patched keeps its labels, and the count says how many went.
 */
async function releaseAll(
  deps: FinalizeDeps,
  obj: GitSyncObject,
  inventory: readonly InventoryEntry[],
): Promise<number> {
  const patch = {
    metadata: { labels: { [OWNER_NAME_LABEL]: null, [OWNER_NAMESPACE_LABEL]: null } },
  };
  const outcomes = await settleLimited(inventory, deps.concurrency, async (entry) => {
    const live = await deps.actor.read(entry);
    if (pruneVerdict(live, ownerOf(obj)) !== "delete") return false;
    await deps.actor.kube.mergePatch(entry, patch);
    return true;
  });
  return outcomes.filter((o) => o.status === "fulfilled" && o.value).length;
}

function ownerOf(obj: GitSyncObject): { namespace: string; name: string } {
  return { namespace: obj.metadata.namespace ?? "", name: obj.metadata.name ?? "" };
}

/**
 * Deletes what a deleted GitSync applied, as its own account, in the reverse of apply order,
 * only objects that still carry its owner labels, and only within the prune guard: deleting a
 * GitSync deletes its whole inventory, so past spec.pruneGuard.maxPercent it needs the
 * prune-approved annotation naming the last applied commit (or deletionPolicy: Orphan).
 */
export async function finalizeGitSync(
  deps: FinalizeDeps,
  obj: GitSyncObject,
): Promise<Finalization> {
  const inventory = readInventory(obj.status?.inventory);
  const why = await orphanReason(deps, obj);
  if (why !== undefined) {
    const released = why.startsWith("spec.") ? await releaseAll(deps, obj, inventory) : 0;
    return { kind: "orphaned", why, count: inventory.length, released };
  }
  const commit = commitOf(obj.status?.lastAppliedRevision) ?? "";
  const result = await prune(
    {
      kube: deps.actor.kube,
      read: deps.actor.read,
      owner: ownerOf(obj),
      concurrency: deps.concurrency,
    },
    pruneCandidates(inventory, new Set()),
    guardOf(obj, inventory.length, commit),
  );
  if (result.refused !== undefined) return refusal(obj, result.refused, commit);
  if (result.error !== undefined) {
    const verdict: Verdict = {
      status: "False",
      reason: "PruneFailed",
      message: `deleting the GitSync's objects: ${errorMessage(result.error)}`.slice(0, 4000),
    };
    return { kind: "failed", verdict };
  }
  return { kind: "pruned", result };
}

function guardOf(obj: GitSyncObject, inventory: number, commit: string): PruneGuardSettings {
  const maxPercent = record(record(obj.spec)["pruneGuard"])["maxPercent"];
  const approval = obj.metadata.annotations?.[PRUNE_APPROVED_ANNOTATION];
  return {
    inventory,
    maxPercent: typeof maxPercent === "number" ? maxPercent : 50,
    approved: commit !== "" && pruneApproved(approval, commit),
  };
}

function refusal(obj: GitSyncObject, refused: string, commit: string): Finalization {
  const approve =
    commit === ""
      ? ""
      : `kubectl annotate gitsync ${obj.metadata.name ?? ""} -n ${obj.metadata.namespace ?? ""} ${PRUNE_APPROVED_ANNOTATION}=${commit}, or `;
  const message =
    `deleting the GitSync would delete its objects, but ${refused}; to allow it: ` +
    `${approve}set spec.deletionPolicy: Orphan to leave them in place`;
  return { kind: "refused", verdict: { status: "False", reason: "PruneRefused", message } };
}

/** The Event a finished finalization leaves on the GitSync. */
export function finalizationNote(done: Finalization): EventNote | undefined {
  if (done.kind === "orphaned") {
    return {
      type: "Normal",
      reason: "Orphaned",
      message: `left ${done.count} object${done.count === 1 ? "" : "s"} in place: ${done.why}`,
    };
  }
  if (done.kind !== "pruned") return undefined;
  const n = done.result.deleted.length;
  const kept = done.result.released.length;
  const keptNote = kept > 0 ? `; ${kept} kept (prune disabled or owned by someone else)` : "";
  return {
    type: "Normal",
    reason: "Pruned",
    message: `deleted ${n} object${n === 1 ? "" : "s"} with the GitSync${keptNote}`,
  };
}
