import { ErrorCodes, GuardError, errorMessage } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import type { KubeObject } from "../kube/objects.js";
import type { Clock } from "../runtime/clock.js";
import type { Actor } from "./actors.js";
import { describeObject, type AppliedObject } from "./apply/apply.js";
import { runPhases, type PhaseDeps } from "./apply/phases.js";
import { planPhases } from "./apply/plan.js";
import { prune, type PruneResult } from "./apply/prune.js";
import { pruneApproved, pruneCandidates } from "./apply/prune-plan.js";
import { resolveScopes } from "./apply/scopes.js";
import type { CachedReader, LastApply } from "./apply/unchanged.js";
import { isEphemeralHook, releaseOf, withRelease } from "./apply/hook-policy.js";
import { buildDesired, desiredKey, inventoryEntryOf, type DesiredObject } from "./desired.js";
import { type GitSyncSpec, type HelmReleaseStatus, type InventoryEntry } from "./gitsync.js";
import { summarizeHealth, type HealthSummary } from "./health/aggregate.js";
import type { OwnershipConflict } from "./ownership.js";
import { readHealth, type LiveReader } from "./health/read.js";
import { mergeInventory } from "./inventory.js";
import { reasonFor } from "./reasons.js";
import type { KustomizeSettings } from "./render/kustomize.js";
import { helmContext } from "./helm/context.js";
import type { RenderCache } from "./helm/render-cache.js";
import type { HelmSettings } from "./helm/template.js";
import { renderSource } from "./render/render.js";
import { sopsFor } from "./render/sops-keys.js";
import type { SopsKmsSettings } from "./render/sops.js";
import { checkout, revisionOf } from "./source/checkout.js";
import type { GitSettings } from "./source/source.js";

/** Everything a sync needs from the component, fixed for its lifetime. */
export interface SyncEnvironment {
  readonly kube: KubeClient;
  readonly read: LiveReader;
  readonly clock: Clock;
  readonly git: GitSettings;
  readonly kustomize: Omit<KustomizeSettings, "signal">;
  readonly helm: Omit<HelmSettings, "signal">;
  /** The last Helm render of each GitSync (absent: every sync runs helm, as `diff` does). */
  readonly helmRenders?: RenderCache;
  readonly concurrency: number;
  readonly definitionsTimeoutMs: number;
  readonly pollMs: number;
  /** Where kustomize may read a decrypted copy of a checkout (see ReconcilerOptions.scratchDir). */
  readonly scratchDir: string;
  readonly sopsKms: SopsKmsSettings;
}

export interface SyncRequest {
  readonly namespace: string;
  readonly name: string;
  readonly spec: GitSyncSpec;
  readonly previous: readonly InventoryEntry[];
  /** The GitSync's gitops-guard.io/prune-approved annotation. */
  readonly pruneApproval: string | undefined;
  readonly lastApplies: ReadonlyMap<string, LastApply>;
  /** The self-heal watches' cache (absent: every object is applied; see Applier.cached). */
  readonly cached?: CachedReader;
  readonly signal: AbortSignal;
  /** A revision already fetched and rendered, to apply again without asking Git (resume). */
  readonly rendered?: Rendered;
  /** What to apply for each object (see Applier.shape). */
  readonly shape?: (obj: DesiredObject) => KubeObject;
  /**
   * Who applies, prunes and reads health (the GitSync's service account); absent: the
   * environment's own client.
   */
  readonly actor?: Actor;
  /** The release (hook-policy.ts releaseOf) the GitSync's status says was applied in full. */
  readonly appliedRelease?: string;
  /** The hooks of a release already run and deleted (kept by the caller across resumes). */
  readonly hooksDone?: (release: string) => Set<string>;
  /** Objects of these entries that another GitSync owns (refused before anything is applied). */
  readonly conflicts?: (entries: readonly InventoryEntry[]) => readonly OwnershipConflict[];
}

/** A fetched and rendered revision. */
export interface Rendered {
  readonly fetched: Fetched;
  readonly desired: readonly DesiredObject[];
}

export type SyncStage = "source" | "render" | "apply" | "prune";

export interface Fetched {
  readonly revision: string;
  readonly commit: string;
  /** The chart rendered, for a Helm GitSync. */
  readonly helm?: HelmReleaseStatus;
}

export type SyncResult =
  | {
      readonly kind: "failed";
      readonly stage: SyncStage;
      readonly reason: string;
      readonly error: unknown;
      readonly fetched?: Fetched;
      readonly inventory: readonly InventoryEntry[];
      readonly applied: readonly AppliedObject[];
    }
  | {
      readonly kind: "waiting";
      readonly reason: string;
      readonly message: string;
      readonly fetched: Fetched;
      readonly desired: readonly DesiredObject[];
      readonly inventory: readonly InventoryEntry[];
      readonly applied: readonly AppliedObject[];
    }
  | {
      readonly kind: "synced";
      readonly fetched: Fetched;
      readonly desired: readonly DesiredObject[];
      readonly inventory: readonly InventoryEntry[];
      readonly applied: readonly AppliedObject[];
      readonly pruned: PruneResult;
      readonly health: HealthSummary;
    };

class StageError extends Error {
  readonly stage: SyncStage;
  constructor(stage: SyncStage, cause: unknown) {
    super(errorMessage(cause), { cause });
    this.stage = stage;
  }
}

/** The error a stage failed with, for callers outside a sync (`gitops-guard diff`). */
export function stageCause(err: unknown): unknown {
  return err instanceof StageError ? err.cause : err;
}

async function stage<T>(name: SyncStage, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err: unknown) {
    throw new StageError(name, err);
  }
}

/** What fetching and rendering a revision needs (a sync, or `gitops-guard diff`). */
export type RenderEnvironment = Pick<
  SyncEnvironment,
  "kube" | "git" | "kustomize" | "helm" | "helmRenders" | "scratchDir" | "sopsKms"
>;
export type RenderRequest = Pick<
  SyncRequest,
  "namespace" | "name" | "spec" | "signal" | "rendered"
>;

/** Fetches the GitSync's revision and renders it into the objects a sync would apply. */
export async function fetchAndRender(
  env: RenderEnvironment,
  req: RenderRequest,
): Promise<Rendered> {
  if (req.rendered !== undefined) return req.rendered;
  const source = await stage("source", () =>
    checkout({ kube: env.kube, settings: env.git, scratchDir: env.scratchDir, ...req }),
  );
  let helm: HelmReleaseStatus | undefined;
  const desired = await stage("render", async () => {
    const sops = await sopsFor(env, req);
    const items = await renderSource({
      root: source.dir,
      path: req.spec.path,
      kustomize: { ...env.kustomize, signal: req.signal },
      scratchDir: env.scratchDir,
      ...(sops === undefined ? {} : { sops }),
      helm: helmContext(env, req, source.commit ?? ""),
      onHelm: (release) => (helm = release),
    }).finally(() => sops?.close());
    const scopes = await resolveScopes(env.kube, items);
    const owner = { namespace: req.namespace, name: req.name };
    const target = req.spec.targetNamespace;
    return buildDesired(items, {
      owner,
      scopes,
      ...(target === undefined ? {} : { targetNamespace: target }),
    });
  }).finally(() => source.close());
  const revision = revisionOf(req.spec.ref, source.commit, helm);
  const fetched: Fetched = helm === undefined ? revision : { ...revision, helm };
  // As a sync sends them (and `diff` shows them): hooks with a delete policy carry their release.
  const release = releaseOf(fetched.revision, helm);
  const withHooks = await stage("render", () =>
    Promise.resolve(desired.map((d) => withRelease(d, release))),
  );
  return { fetched, desired: withHooks };
}

async function pruneStale(
  env: SyncEnvironment,
  req: SyncRequest,
  desired: readonly DesiredObject[],
  commit: string,
): Promise<PruneResult> {
  const candidates = pruneCandidates(req.previous, new Set(desired.map((d) => d.key)));
  if (!req.spec.prune || candidates.length === 0)
    return { deleted: [], kept: [], released: candidates };
  const actor = req.actor ?? env;
  return prune(
    {
      kube: actor.kube,
      read: actor.read,
      owner: { namespace: req.namespace, name: req.name },
      concurrency: env.concurrency,
    },
    candidates,
    {
      inventory: req.previous.length,
      maxPercent: req.spec.pruneMaxPercent,
      approved: pruneApproved(req.pruneApproval, commit),
    },
  );
}

/** Throws when another GitSync owns any of the objects: nothing is applied on top of it. */
function refuseConflicts(req: SyncRequest, desired: readonly DesiredObject[]): void {
  const found = req.conflicts?.(desired.map((d) => inventoryEntryOf(d.ref))) ?? [];
  const [first, ...rest] = found;
  if (first === undefined) return;
  const more = rest.length === 0 ? "" : ` (and ${rest.length} more owned by other GitSyncs)`;
  throw new GuardError(
    ErrorCodes.APPLY_OWNERSHIP_CONFLICT,
    `${describeObject(first.entry)} is owned by GitSync ${first.owner}${more}: a GitSync may ` +
      `not take over another's objects; remove it from one of them, or delete GitSync ` +
      `${first.owner} with spec.deletionPolicy: Orphan to hand it over`,
    { details: { object: describeObject(first.entry), owner: first.owner } },
  );
}

/** What the ordered apply of one sync needs: the GitSync's actor and what was applied before. */
function phaseDeps(
  env: SyncEnvironment,
  req: SyncRequest,
  actor: Actor,
  release: string,
): PhaseDeps {
  return {
    hooks: {
      release,
      applied: req.appliedRelease === release,
      done: req.hooksDone?.(release) ?? new Set(),
    },
    applier: {
      kube: actor.kube,
      concurrency: env.concurrency,
      lastApplies: req.lastApplies,
      known: new Set(req.previous.map(desiredKey)),
      ...(req.cached === undefined ? {} : { cached: req.cached }),
      ...(req.shape === undefined ? {} : { shape: req.shape }),
      ...(req.actor?.account === undefined ? {} : { actingAs: req.actor.account.username }),
    },
    read: actor.read,
    clock: env.clock,
    signal: req.signal,
    definitionsTimeoutMs: env.definitionsTimeoutMs,
    pollMs: env.pollMs,
  };
}

/**
 * One sync of a GitSync: fetch, render, apply in order, prune, judge health. It never throws:
 * every failure comes back with the stage it happened in, and the inventory still lists every
 * object applied (so a later sync can prune it).
 */
export async function syncGitSync(env: SyncEnvironment, req: SyncRequest): Promise<SyncResult> {
  const applied: AppliedObject[] = [];
  let fetched: Fetched | undefined;
  const inventory = (): InventoryEntry[] =>
    mergeInventory(
      req.previous,
      applied.map((a) => inventoryEntryOf(a.desired.ref)),
    );
  try {
    const rendered = await fetchAndRender(env, req);
    fetched = rendered.fetched;
    const release = releaseOf(fetched.revision, fetched.helm);
    const { desired } = rendered;
    const phases = await stage("render", () => Promise.resolve(planPhases(desired)));
    await stage("apply", () => {
      refuseConflicts(req, desired);
      return Promise.resolve();
    });
    const actor = req.actor ?? env;
    const deps = phaseDeps(env, req, actor, release);
    const outcome = await stage("apply", () => runPhases(deps, phases, (a) => applied.push(a)));
    if (outcome.kind === "failed") {
      return {
        kind: "failed",
        stage: "apply",
        reason: outcome.reason,
        error: outcome.error,
        fetched,
        inventory: inventory(),
        applied,
      };
    }
    if (outcome.kind === "waiting") {
      return { ...outcome, fetched, desired, inventory: inventory(), applied };
    }
    const pruned = await stage("prune", () =>
      pruneStale(env, req, desired, rendered.fetched.commit),
    );
    const kept = mergeInventory(
      desired.map((d) => inventoryEntryOf(d.ref)),
      pruned.kept,
    );
    // Hooks deleted once they succeed are not there to be healthy.
    const lasting = desired.filter((d) => !isEphemeralHook(d)).map((d) => d.ref);
    const health = summarizeHealth(await readHealth(actor.read, lasting, env.concurrency));
    return { kind: "synced", fetched, desired, inventory: kept, applied, pruned, health };
  } catch (err: unknown) {
    const failedStage = err instanceof StageError ? err.stage : "apply";
    const cause = err instanceof StageError ? err.cause : err;
    const reason = reasonFor(
      cause,
      failedStage === "source" ? "GitFetchFailed" : "ReconcileFailed",
    );
    const base = {
      kind: "failed" as const,
      stage: failedStage,
      reason,
      error: cause,
      inventory: inventory(),
      applied,
    };
    return fetched === undefined ? base : { ...base, fetched };
  }
}
