import { errorMessage } from "../../errors.js";
import type { Clock } from "../../runtime/clock.js";
import type { Alert } from "./alert.js";
import type { AlertSink } from "./sinks.js";

export type AlertOutcome = "sent" | "failed" | "deduplicated" | "dropped";

export interface SinkQueueOptions {
  readonly sink: AlertSink;
  readonly clock: Clock;
  /** Alerts held while the sink is down; beyond it the oldest is dropped (and counted). */
  readonly capacity?: number;
  /** Deliveries per minute at most (a token bucket); the rest wait in the queue. */
  readonly perMinute?: number;
  /** The same alert key within this window is sent once. */
  readonly dedupWindowMs?: number;
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
  readonly onOutcome?: (outcome: AlertOutcome, error?: string) => void;
}

/**
 * One sink's delivery line: deduplicate, hold in a bounded queue, rate-limit, and retry the
 * head with capped exponential backoff until it goes through, so a sink that is down for a
 * while loses nothing but what overflows the bound.
 */
export class SinkQueue {
  private readonly items: Alert[] = [];
  private readonly seen = new Map<string, number>();
  private readonly opts: SinkQueueOptions;
  private tokens: number;
  private refilledAt: number;
  private wake: (() => void) | undefined;

  constructor(opts: SinkQueueOptions) {
    this.opts = opts;
    this.tokens = opts.perMinute ?? 30;
    this.refilledAt = Number.NaN;
  }

  get length(): number {
    return this.items.length;
  }

  push(alert: Alert): void {
    const now = this.opts.clock.now();
    const window = this.opts.dedupWindowMs ?? 5 * 60_000;
    for (const [key, at] of this.seen) if (now - at >= window) this.seen.delete(key);
    if (this.seen.has(alert.key)) {
      this.opts.onOutcome?.("deduplicated");
      return;
    }
    this.seen.set(alert.key, now);
    this.items.push(alert);
    if (this.items.length > (this.opts.capacity ?? 1000)) {
      this.items.shift();
      this.opts.onOutcome?.("dropped");
    }
    this.wake?.();
  }

  /** Delivers until signal aborts; what is still queued then stays unsent. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const head = this.items[0];
      if (head === undefined) {
        await this.idle(signal);
        continue;
      }
      await this.takeToken(signal);
      // deliverWithRetry sends nothing once signal has aborted.
      await this.deliverWithRetry(head, signal);
    }
  }

  private idle(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.wake = undefined;
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }

  private async takeToken(signal: AbortSignal): Promise<void> {
    const perMinute = this.opts.perMinute ?? 30;
    const msPerToken = 60_000 / perMinute;
    const now = this.opts.clock.now();
    if (Number.isNaN(this.refilledAt)) this.refilledAt = now;
    this.tokens = Math.min(perMinute, this.tokens + (now - this.refilledAt) / msPerToken);
    this.refilledAt = now;
    if (this.tokens < 1) await this.opts.clock.sleep((1 - this.tokens) * msPerToken, signal);
    this.tokens = Math.max(0, this.tokens - 1);
  }

  private async deliverWithRetry(alert: Alert, signal: AbortSignal): Promise<void> {
    const retry = this.opts.retry ?? { initialMs: 500, maxMs: 60_000 };
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await this.opts.sink.deliver(alert);
        if (this.items[0] === alert) this.items.shift();
        this.opts.onOutcome?.("sent");
        return;
      } catch (err: unknown) {
        this.opts.onOutcome?.("failed", errorMessage(err));
        // Dropped by overflow meanwhile: move on to what is now the head.
        if (this.items[0] !== alert) return;
        await this.opts.clock.sleep(Math.min(retry.maxMs, retry.initialMs * 2 ** attempt), signal);
      }
    }
  }
}
