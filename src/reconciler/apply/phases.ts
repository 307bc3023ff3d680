import { ErrorCodes, GuardError, isGuardError } from "../../errors.js";
import type { Clock } from "../../runtime/clock.js";
import type { DesiredObject } from "../desired.js";
import { summarizeHealth, type HealthSummary } from "../health/aggregate.js";
import { readHealth, type LiveReader } from "../health/read.js";
import {
  applyBatches,
  applyObject,
  describeObject,
  type AppliedObject,
  type Applier,
} from "./apply.js";
import type { Phase } from "./plan.js";

export interface PhaseDeps {
  readonly applier: Applier;
  readonly read: LiveReader;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** How long a sync waits in place for Namespaces and CRDs to become ready. */
  readonly definitionsTimeoutMs: number;
  readonly pollMs: number;
}

/** Where the ordered apply stopped. `waiting` resumes on the next sync (level-triggered). */
export type PhaseOutcome =
  | { readonly kind: "complete" }
  | { readonly kind: "waiting"; readonly reason: string; readonly message: string }
  | { readonly kind: "failed"; readonly reason: string; readonly error: GuardError };

type OnApplied = (applied: AppliedObject) => void;

async function health(deps: PhaseDeps, objects: readonly DesiredObject[]): Promise<HealthSummary> {
  return summarizeHealth(
    await readHealth(
      deps.read,
      objects.map((o) => o.ref),
      deps.applier.concurrency,
    ),
  );
}

/** Namespaces Active and CRDs Established are quick: wait for them here rather than requeue. */
async function awaitDefinitions(
  deps: PhaseDeps,
  objects: readonly DesiredObject[],
): Promise<PhaseOutcome> {
  const deadline = deps.clock.now() + deps.definitionsTimeoutMs;
  for (;;) {
    const summary = await health(deps, objects);
    if (summary.status === "Healthy") return { kind: "complete" };
    if (summary.status === "Degraded") {
      const error = new GuardError(ErrorCodes.APPLY_NOT_READY, summary.message);
      return { kind: "failed", reason: "DefinitionsFailed", error };
    }
    if (deps.clock.now() >= deadline || deps.signal.aborted) {
      return { kind: "waiting", reason: "WaitingForDefinitions", message: summary.message };
    }
    await deps.clock.sleep(deps.pollMs, deps.signal);
  }
}

async function awaitGone(deps: PhaseDeps, hook: DesiredObject): Promise<void> {
  const deadline = deps.clock.now() + deps.definitionsTimeoutMs;
  while ((await deps.read(hook.ref)) !== undefined && deps.clock.now() < deadline) {
    await deps.clock.sleep(deps.pollMs, deps.signal);
  }
}

/**
 * Applies a hook Job; one whose template changed in Git is deleted and created anew (Argo CD's
 * BeforeHookCreation), since a Job's template is immutable and a changed hook must run again.
 */
async function applyHook(
  deps: PhaseDeps,
  hook: DesiredObject,
  onApplied: OnApplied,
): Promise<void> {
  try {
    onApplied(await applyObject(deps.applier, hook));
    return;
  } catch (err: unknown) {
    if (!isGuardError(err, ErrorCodes.APPLY_IMMUTABLE_FIELD)) throw err;
  }
  await deps.applier.kube.delete(hook.ref, { propagationPolicy: "Background" });
  await awaitGone(deps, hook);
  onApplied(await applyObject(deps.applier, hook));
}

async function runHooks(
  deps: PhaseDeps,
  phase: Phase,
  onApplied: OnApplied,
): Promise<PhaseOutcome> {
  const hooks = phase.batches.flat();
  for (const hook of hooks) await applyHook(deps, hook, onApplied);
  const results = await readHealth(
    deps.read,
    hooks.map((h) => h.ref),
    deps.applier.concurrency,
  );
  const failed = results.find((r) => r.health.status === "Degraded");
  if (failed !== undefined) {
    const error = new GuardError(
      ErrorCodes.APPLY_HOOK_FAILED,
      `PreSync ${describeObject(failed.ref)} failed (${failed.health.message}); nothing else was applied. ` +
        "Fix the hook in Git (a changed Job runs again) or delete the Job to retry it",
    );
    return { kind: "failed", reason: "PreSyncHookFailed", error };
  }
  const running = results.filter((r) => r.health.status !== "Healthy");
  if (running.length === 0) return { kind: "complete" };
  const names = running.map((r) => describeObject(r.ref)).join(", ");
  return {
    kind: "waiting",
    reason: "PreSyncHookRunning",
    message: `waiting for PreSync ${names} to complete`,
  };
}

async function runPhase(
  deps: PhaseDeps,
  phase: Phase,
  followed: boolean,
  onApplied: OnApplied,
): Promise<PhaseOutcome> {
  if (phase.kind === "presync") return runHooks(deps, phase, onApplied);
  await applyBatches(deps.applier, phase.batches, onApplied);
  const objects = phase.batches.flat();
  if (phase.kind === "definitions") return awaitDefinitions(deps, objects);
  // A wave starts once the wave before it is healthy (Argo CD's rule); the last needs no wait.
  if (phase.kind !== "wave" || !followed) return { kind: "complete" };
  const summary = await health(deps, objects);
  if (summary.status === "Healthy") return { kind: "complete" };
  return {
    kind: "waiting",
    reason: "WaitingForWave",
    message: `wave ${phase.wave}: ${summary.message}`,
  };
}

/** Runs the phases in order until one is not complete. Apply errors are thrown (see applyBatches). */
export async function runPhases(
  deps: PhaseDeps,
  phases: readonly Phase[],
  onApplied: OnApplied,
): Promise<PhaseOutcome> {
  for (const [index, phase] of phases.entries()) {
    const outcome = await runPhase(deps, phase, index < phases.length - 1, onApplied);
    if (outcome.kind !== "complete") return outcome;
  }
  return { kind: "complete" };
}
