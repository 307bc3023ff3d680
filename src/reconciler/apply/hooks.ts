/**
 * Running a phase of hooks (PreSync or PostSync): apply them in order, wait for them, then delete
 * what their delete policies say. A hook with a policy runs once per release (see hook-policy.ts).
 */
import { ErrorCodes, GuardError, isGuardError } from "../../errors.js";
import type { DesiredObject } from "../desired.js";
import type { ObjectHealth } from "../health/aggregate.js";
import { readHealth } from "../health/read.js";
import { applyObject, describeObject, type AppliedObject } from "./apply.js";
import { deletePolicies, isEphemeralHook, releaseOfLive, type HookPhase } from "./hook-policy.js";
import type { PhaseDeps, PhaseOutcome } from "./phases.js";

/** What the hooks of one sync know of their release. */
export interface HookRun {
  /** The release this sync applies (releaseOf). */
  readonly release: string;
  /** The GitSync's status says this release was applied in full: its hooks have run. */
  readonly applied: boolean;
  /** Desired keys of this release's hooks that succeeded and were deleted (across resumes). */
  readonly done: Set<string>;
}

type OnApplied = (applied: AppliedObject) => void;

async function awaitGone(deps: PhaseDeps, hook: DesiredObject): Promise<void> {
  const deadline = deps.clock.now() + deps.definitionsTimeoutMs;
  while ((await deps.read(hook.ref)) !== undefined && deps.clock.now() < deadline) {
    await deps.clock.sleep(deps.pollMs, deps.signal);
  }
}

async function deleteAndWait(deps: PhaseDeps, hook: DesiredObject): Promise<void> {
  await deps.applier.kube.delete(hook.ref, { propagationPolicy: "Background" });
  await awaitGone(deps, hook);
}

/** A hook deleted on success that already ran for this release: it is not run again. */
function ranAlready(run: HookRun, hook: DesiredObject): boolean {
  return isEphemeralHook(hook) && (run.applied || run.done.has(hook.key));
}

/**
 * Applies a hook. One left by another release is deleted first (Argo CD's BeforeHookCreation,
 * Helm's default): it must run again. A Job whose template changed in Git is deleted and
 * created anew, since a Job's template is immutable and a changed hook must run again.
 */
async function applyHook(
  deps: PhaseDeps,
  hook: DesiredObject,
  onApplied: OnApplied,
): Promise<void> {
  if (deletePolicies(hook).size > 0) {
    const live = await deps.read(hook.ref);
    if (live !== undefined && releaseOfLive(live.metadata.annotations) !== deps.hooks.release) {
      await deleteAndWait(deps, hook);
    }
  }
  try {
    onApplied(await applyObject(deps.applier, hook));
    return;
  } catch (err: unknown) {
    if (!isGuardError(err, ErrorCodes.APPLY_IMMUTABLE_FIELD)) throw err;
  }
  await deleteAndWait(deps, hook);
  onApplied(await applyObject(deps.applier, hook));
}

/** HookSucceeded deletes what succeeded (remembered as done), HookFailed what failed. */
async function deleteByPolicy(
  deps: PhaseDeps,
  hooks: readonly DesiredObject[],
  results: readonly ObjectHealth[],
): Promise<void> {
  for (const [i, hook] of hooks.entries()) {
    const status = results[i]?.health.status;
    const policies = deletePolicies(hook);
    const succeeded = status === "Healthy" && policies.has("HookSucceeded");
    if (succeeded || (status === "Degraded" && policies.has("HookFailed"))) {
      await deps.applier.kube.delete(hook.ref, { propagationPolicy: "Background" });
    }
    if (succeeded) deps.hooks.done.add(hook.key);
  }
}

function hookFailed(phase: HookPhase, failed: ObjectHealth, hook: DesiredObject): PhaseOutcome {
  const rest = phase === "PreSync" ? "nothing else was applied" : "everything else was applied";
  const retry = deletePolicies(hook).has("HookFailed")
    ? "it was deleted (HookFailed) and runs again on the next sync"
    : "fix the hook in Git (a changed Job runs again) or delete the Job to retry it";
  const error = new GuardError(
    ErrorCodes.APPLY_HOOK_FAILED,
    `${phase} ${describeObject(failed.ref)} failed (${failed.health.message}); ${rest}; ${retry}`,
  );
  return { kind: "failed", reason: `${phase}HookFailed`, error };
}

/** Runs one wave of hooks: complete once all succeeded, waiting while any runs, failed if one failed. */
export async function runHooks(
  deps: PhaseDeps,
  phase: HookPhase,
  wave: readonly DesiredObject[],
  onApplied: OnApplied,
): Promise<PhaseOutcome> {
  const hooks = wave.filter((h) => !ranAlready(deps.hooks, h));
  for (const hook of hooks) await applyHook(deps, hook, onApplied);
  const results = await readHealth(
    deps.read,
    hooks.map((h) => h.ref),
    deps.applier.concurrency,
  );
  await deleteByPolicy(deps, hooks, results);
  const failedAt = results.findIndex((r) => r.health.status === "Degraded");
  const failed = results[failedAt];
  const failedHook = hooks[failedAt];
  if (failed !== undefined && failedHook !== undefined)
    return hookFailed(phase, failed, failedHook);
  const running = results.filter((r) => r.health.status !== "Healthy");
  if (running.length === 0) return { kind: "complete" };
  const names = running.map((r) => describeObject(r.ref)).join(", ");
  return {
    kind: "waiting",
    reason: `${phase}HookRunning`,
    message: `waiting for ${phase} ${names} to complete`,
  };
}
