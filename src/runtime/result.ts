/**
 * What a reconcile returns. Reconcilers are level-triggered: the result says only whether to
 * look again later, never what happened, so a missed event is repaired by the next run.
 */
export interface ReconcileResult {
  /** Run this key again after this many ms, even if nothing changes (periodic audit, key rotation). */
  readonly requeueAfterMs?: number;
}

/** Nothing more to do until the next event for this key. */
export function done(): ReconcileResult {
  return {};
}

/**
 * Run again after ms. Validated here so a bad interval fails where it is computed, not later
 * inside a timer (Node turns a NaN or huge delay into 1 ms, which would spin).
 */
export function requeueAfter(ms: number): ReconcileResult {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`requeueAfter needs a finite, non-negative delay, got ${String(ms)}`);
  }
  return { requeueAfterMs: ms };
}

/**
 * Input that retrying cannot fix (a malformed spec, a secret sealed for another key). The worker
 * loop records it and drops the key instead of backing off; the next change to the object brings
 * it back. Every other error is retried with backoff.
 */
export class TerminalError extends Error {
  override readonly name: string = "TerminalError";
  /** A stable, machine-readable reason, for conditions and metrics. */
  readonly code: string | undefined;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
  }
}

export function isTerminalError(err: unknown): err is TerminalError {
  return err instanceof TerminalError;
}
