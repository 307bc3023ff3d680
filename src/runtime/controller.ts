import { realClock, type Clock } from "./clock.js";
import type { WorkQueue } from "./queue.js";
import { isTerminalError, type ReconcileResult } from "./result.js";

/**
 * The worker loop of controller-runtime's processNextWorkItem: take a key, reconcile it, and let
 * the result decide what the queue does next. Telemetry stays with the caller through onResult,
 * so this layer imports nothing but the clock.
 */

/** How one reconcile ended. */
export type Outcome = "success" | "requeue" | "terminal" | "retry";

/**
 * Reconciles one key from the cache. signal aborts when the workers are told to stop (for
 * example on loss of leadership), so long calls can give up early.
 */
export type Reconciler<K extends string> = (
  key: K,
  signal: AbortSignal,
) => ReconcileResult | Promise<ReconcileResult>;

export type OnResult<K extends string> = (
  key: K,
  outcome: Outcome,
  durationMs: number,
  error?: unknown,
) => void;

export interface RunWorkersOptions<K extends string> {
  readonly queue: WorkQueue<K>;
  readonly reconcile: Reconciler<K>;
  /** Concurrent reconciles (different keys only; the queue keeps one run per key). Default 1. */
  readonly workers?: number;
  /** Called after every reconcile, for logs and metrics. A throw here is ignored. */
  readonly onResult?: OnResult<K>;
  /** Stops taking new keys; in-flight reconciles finish first. */
  readonly signal?: AbortSignal;
  /** Measures durationMs. Default realClock(). */
  readonly clock?: Clock;
}

interface WorkerContext<K extends string> {
  readonly queue: WorkQueue<K>;
  readonly reconcile: Reconciler<K>;
  readonly onResult: OnResult<K> | undefined;
  readonly signal: AbortSignal;
  readonly clock: Clock;
}

/**
 * Runs workers until the queue shuts down or signal aborts, and resolves once every in-flight
 * reconcile has finished. The queue is left as it is: its owner shuts it down.
 */
export async function runWorkers<K extends string>(options: RunWorkersOptions<K>): Promise<void> {
  const workers = options.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`workers must be a positive integer, got ${String(workers)}`);
  }
  const context: WorkerContext<K> = {
    queue: options.queue,
    reconcile: options.reconcile,
    onResult: options.onResult,
    signal: options.signal ?? new AbortController().signal,
    clock: options.clock ?? realClock(),
  };
  const loops: Promise<void>[] = [];
  for (let i = 0; i < workers; i++) loops.push(workerLoop(context));
  await Promise.all(loops);
}

async function workerLoop<K extends string>(context: WorkerContext<K>): Promise<void> {
  for (;;) {
    const key = await context.queue.get(context.signal);
    if (key === undefined) return;
    await processOne(context, key);
  }
}

async function processOne<K extends string>(context: WorkerContext<K>, key: K): Promise<void> {
  const { queue, clock } = context;
  const started = clock.now();
  let outcome: Outcome;
  let error: unknown;
  try {
    const result = await context.reconcile(key, context.signal);
    queue.forget(key);
    outcome = result.requeueAfterMs === undefined ? "success" : "requeue";
    // While key is still in flight: a delay schedules a timer, 0 marks it dirty for done().
    if (result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
  } catch (err: unknown) {
    error = err;
    // Terminal errors are counted but not retried; the next change to the object re-adds it.
    outcome = isTerminalError(err) ? "terminal" : "retry";
    if (outcome === "terminal") queue.forget(key);
    else queue.addRateLimited(key);
  } finally {
    queue.done(key);
  }
  report(context, { key, outcome, durationMs: clock.now() - started, error });
}

function report<K extends string>(
  context: WorkerContext<K>,
  event: { key: K; outcome: Outcome; durationMs: number; error: unknown },
): void {
  if (context.onResult === undefined) return;
  try {
    const failed = event.outcome === "terminal" || event.outcome === "retry";
    if (failed) context.onResult(event.key, event.outcome, event.durationMs, event.error);
    else context.onResult(event.key, event.outcome, event.durationMs);
  } catch {
    // A broken log or metric must not stop reconciliation; the reconcile itself already counted.
  }
}
