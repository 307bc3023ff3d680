import { ErrorCodes, GuardError } from "../../errors.js";
import type { Clock } from "../../runtime/clock.js";
import type { DesiredObject } from "../desired.js";
import { summarizeHealth, type HealthSummary } from "../health/aggregate.js";
import { readHealth, type LiveReader } from "../health/read.js";
import { applyBatches, type AppliedObject, type Applier } from "./apply.js";
import type { Phase } from "./plan.js";
import { runHooks, type HookRun } from "./hooks.js";

export interface PhaseDeps {
  readonly applier: Applier;
  readonly read: LiveReader;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** How long a sync waits in place for Namespaces and CRDs to become ready. */
  readonly definitionsTimeoutMs: number;
  readonly pollMs: number;
  /** The release this sync applies, for hooks with a delete policy. */
  readonly hooks: HookRun;
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

/** A wave whose health its account may not read: it would wait forever, so it fails. */
function readRefused(refused: string): PhaseOutcome {
  const error = new GuardError(
    ErrorCodes.APPLY_FORBIDDEN,
    `the GitSync's account may not read, to judge its health, ${refused}`,
  );
  return { kind: "failed", reason: "Forbidden", error };
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
    if (summary.refused !== undefined) return readRefused(summary.refused);
    if (deps.clock.now() >= deadline || deps.signal.aborted) {
      return { kind: "waiting", reason: "WaitingForDefinitions", message: summary.message };
    }
    await deps.clock.sleep(deps.pollMs, deps.signal);
  }
}

async function runPhase(
  deps: PhaseDeps,
  phase: Phase,
  followed: boolean,
  onApplied: OnApplied,
): Promise<PhaseOutcome> {
  if (phase.kind === "presync" || phase.kind === "postsync") {
    const hookPhase = phase.kind === "presync" ? "PreSync" : "PostSync";
    return runHooks(deps, hookPhase, phase.batches.flat(), onApplied);
  }
  await applyBatches(deps.applier, phase.batches, onApplied);
  const objects = phase.batches.flat();
  if (phase.kind === "definitions") return awaitDefinitions(deps, objects);
  // A wave starts once the wave before it is healthy (Argo CD's rule), and PostSync hooks once
  // everything is; the last phase needs no wait.
  if (!followed) return { kind: "complete" };
  const summary = await health(deps, objects);
  if (summary.status === "Healthy") return { kind: "complete" };
  if (summary.refused !== undefined) return readRefused(summary.refused);
  const where = phase.kind === "wave" ? `wave ${phase.wave}` : "admission configuration";
  return { kind: "waiting", reason: "WaitingForWave", message: `${where}: ${summary.message}` };
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
