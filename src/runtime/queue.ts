import type { Clock } from "./clock.js";
import { ExponentialBackoff, type Backoff } from "./backoff.js";

/**
 * A work queue of keys with the guarantees of client-go's workqueue that controllers rely on:
 * - a key waits at most once (adds while waiting collapse into one run);
 * - a key is never handed to two workers at once: an add while it is in flight marks it dirty,
 *   and done() puts it back, so the change is seen by a run that starts after it;
 * - a key has at most one pending deadline, and the earliest wins (kube-rs scheduler rule), so a
 *   short retry is not hidden behind a long periodic requeue, nor the other way round;
 * - ready keys come out in FIFO order.
 */
export interface WorkQueueDeps<K extends string> {
  readonly clock: Clock;
  /** Delays for addRateLimited. Default: ExponentialBackoff (5 ms doubling to 1000 s). */
  readonly backoff?: Backoff<K>;
}

interface Scheduled {
  readonly at: number;
  cancel: () => void;
}

type Waiter<K> = (key: K | undefined) => void;

// Node clamps timers above 2^31-1 ms to 1 ms; a long requeue must not become a hot loop.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class WorkQueue<K extends string> {
  private readonly clock: Clock;
  private readonly backoff: Backoff<K>;
  /** Keys ready to hand out; a Set keeps insertion order, which gives FIFO. */
  private readonly ready = new Set<K>();
  private readonly inFlight = new Set<K>();
  /** In-flight keys that were added again and must run once more after done(). */
  private readonly dirty = new Set<K>();
  private readonly scheduled = new Map<K, Scheduled>();
  private waiters: Waiter<K>[] = [];
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(deps: WorkQueueDeps<K>) {
    this.clock = deps.clock;
    this.backoff = deps.backoff ?? new ExponentialBackoff<K>();
  }

  /** Makes key ready now. Cancels any later deadline for it: now is the earliest. */
  add(key: K): void {
    if (this.stopped) return;
    this.cancelScheduled(key);
    if (this.inFlight.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.ready.has(key)) return;
    this.enqueue(key);
  }

  /** Makes key ready after ms, unless it is already due sooner. */
  addAfter(key: K, ms: number): void {
    if (this.stopped) return;
    if (Number.isNaN(ms)) throw new RangeError("addAfter delay is NaN");
    if (ms <= 0) {
      this.add(key);
      return;
    }
    // Already due now (waiting, or re-running right after its current run).
    if (this.ready.has(key) || this.dirty.has(key)) return;
    const delay = Math.min(ms, MAX_TIMER_MS);
    const at = this.clock.now() + delay;
    const existing = this.scheduled.get(key);
    if (existing !== undefined && existing.at <= at) return;
    existing?.cancel();
    const entry: Scheduled = { at, cancel: () => undefined };
    entry.cancel = this.clock.setTimer(() => {
      if (this.scheduled.get(key) !== entry) return;
      this.scheduled.delete(key);
      this.add(key);
    }, delay);
    this.scheduled.set(key, entry);
  }

  /** Retries key after its next backoff delay (one more failure counted). */
  addRateLimited(key: K): void {
    if (this.stopped) return;
    this.addAfter(key, this.backoff.next(key));
  }

  /** Resets key's backoff, after a success or a failure that will not be retried. */
  forget(key: K): void {
    this.backoff.forget(key);
  }

  /** Failures counted for key since the last forget. */
  failures(key: K): number {
    return this.backoff.failures(key);
  }

  /**
   * The next ready key, marked in flight until done(key). Waits while nothing is ready.
   * Resolves undefined after shutDown(), or when signal aborts (the queue stays usable).
   */
  get(signal?: AbortSignal): Promise<K | undefined> {
    if (this.stopped || signal?.aborted === true) return Promise.resolve(undefined);
    const key = this.takeReady();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      };
      const waiter: Waiter<K> = (next) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(next);
      };
      this.waiters.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Ends the run of key; if it was added meanwhile, it is ready again. */
  done(key: K): void {
    if (!this.inFlight.delete(key)) return;
    if (this.dirty.delete(key) && !this.stopped) this.enqueue(key);
    if (this.inFlight.size === 0) this.wakeIdle();
  }

  /** Keys ready to hand out now (not counting scheduled or in-flight ones). */
  len(): number {
    return this.ready.size;
  }

  /** Keys waiting for a deadline. */
  scheduledLen(): number {
    return this.scheduled.size;
  }

  /** Keys handed out and not yet done. */
  inFlightLen(): number {
    return this.inFlight.size;
  }

  isShutDown(): boolean {
    return this.stopped;
  }

  /**
   * Stops the queue: drops waiting and scheduled keys (the next start relists everything, so
   * nothing is lost), cancels timers so the process can exit, and wakes every get() with undefined.
   * In-flight keys may still call done().
   */
  shutDown(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const entry of this.scheduled.values()) entry.cancel();
    this.scheduled.clear();
    this.ready.clear();
    this.dirty.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter(undefined);
  }

  /** Resolves when no key is in flight: after shutDown(), the moment every worker has finished. */
  drain(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
    });
  }

  private enqueue(key: K): void {
    // Invariant: waiters exist only while nothing is ready, so handing over directly keeps FIFO.
    const waiter = this.waiters.shift();
    if (waiter === undefined) {
      this.ready.add(key);
      return;
    }
    this.inFlight.add(key);
    waiter(key);
  }

  private takeReady(): K | undefined {
    for (const key of this.ready) {
      this.ready.delete(key);
      this.inFlight.add(key);
      return key;
    }
    return undefined;
  }

  private cancelScheduled(key: K): void {
    const entry = this.scheduled.get(key);
    if (entry === undefined) return;
    entry.cancel();
    this.scheduled.delete(key);
  }

  private wakeIdle(): void {
    const idle = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of idle) resolve();
  }
}
