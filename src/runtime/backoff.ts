/**
 * Per-key exponential backoff, the same curve as client-go's ItemExponentialFailureRateLimiter
 * (controller-runtime's default): base * 2^failures, capped. One failing key never slows another.
 * It only computes delays; the queue owns the timers.
 */
export interface Backoff<K extends string = string> {
  /** Delay before the next retry of key; counts one more failure. */
  next(key: K): number;
  /** Clears the failure count after a success (or a terminal failure). */
  forget(key: K): void;
  /** Failures counted since the last forget. */
  failures(key: K): number;
}

export interface BackoffOptions {
  /** Delay after the first failure. Default 5 ms. */
  readonly baseMs?: number;
  /** Upper bound for any delay. Default 1000 s. */
  readonly maxMs?: number;
}

export const DEFAULT_BACKOFF = { baseMs: 5, maxMs: 1_000_000 } as const;

export class ExponentialBackoff<K extends string = string> implements Backoff<K> {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly counts = new Map<K, number>();

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
    this.maxMs = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
    // Checked here, not at first failure, so a bad option fails at startup.
    if (!(this.baseMs > 0) || !Number.isFinite(this.baseMs)) {
      throw new RangeError(`backoff baseMs must be a positive number, got ${String(this.baseMs)}`);
    }
    if (!(this.maxMs >= this.baseMs) || !Number.isFinite(this.maxMs)) {
      throw new RangeError(`backoff maxMs must be finite and >= baseMs, got ${String(this.maxMs)}`);
    }
  }

  next(key: K): number {
    const failures = this.failures(key);
    this.counts.set(key, failures + 1);
    // 2 ** failures reaches Infinity after ~1024 failures; min() keeps the result finite.
    return Math.min(this.baseMs * 2 ** failures, this.maxMs);
  }

  forget(key: K): void {
    this.counts.delete(key);
  }

  failures(key: K): number {
    return this.counts.get(key) ?? 0;
  }
}
