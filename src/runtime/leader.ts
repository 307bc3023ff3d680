import type { Clock } from "./clock.js";
import { ErrorCodes, GuardError, isGuardError } from "../errors.js";

// Leader election after client-go's leaderelection, with no Kubernetes imports (src/kube/ stores
// Leases). Safety: a stale resourceVersion fails the write, and the leader gives up at
// renewDeadline, before anyone may take the lease at leaseDuration.

/** The fields of a Lease spec that election reads and writes. */
export interface LeaseRecord {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds: number;
  /** RFC 3339 with microseconds (metav1.MicroTime). */
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions: number;
  /** Opaque; update() must fail with KUBE_CONFLICT unless it equals the stored one. */
  readonly resourceVersion?: string;
}

// One lease. create() fails with GuardError KUBE_CONFLICT if it exists; update() replaces the
// whole record (no holderIdentity clears it) and fails with KUBE_CONFLICT on a stale version.
export interface LeaseStore {
  get(): Promise<LeaseRecord | undefined>;
  create(record: LeaseRecord): Promise<LeaseRecord>;
  update(record: LeaseRecord): Promise<LeaseRecord>;
}

export interface DecideOptions {
  /** Duration this candidate writes into the lease. */
  readonly leaseDurationMs: number;
  /** Local time the current record was first seen; expiry counts from it, not renewTime, so
   * clock skew between nodes cannot shorten a lease (client-go does the same). */
  readonly observedAtMs?: number;
}

export type LeaseDecision =
  | { readonly action: "create" | "renew" | "acquire"; readonly next: LeaseRecord }
  | { readonly action: "wait"; readonly next?: undefined };

/** Kubernetes MicroTime: RFC 3339 with six fractional digits. */
export function rfc3339Micro(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000Z");
}

/** Pure: what a candidate should do with the lease it just read. */
export function decideLease(
  record: LeaseRecord | undefined,
  identity: string,
  now: number,
  options: DecideOptions,
): LeaseDecision {
  const time = rfc3339Micro(now);
  const leaseDurationSeconds = Math.max(1, Math.ceil(options.leaseDurationMs / 1000));
  if (record === undefined) {
    const next = { holderIdentity: identity, leaseDurationSeconds, leaseTransitions: 0 };
    return { action: "create", next: { ...next, acquireTime: time, renewTime: time } };
  }
  const base = { ...record, holderIdentity: identity, leaseDurationSeconds, renewTime: time };
  if (record.holderIdentity === identity) {
    return { action: "renew", next: { ...base, acquireTime: record.acquireTime ?? time } };
  }
  if (isHeld(record, now, options.observedAtMs)) return { action: "wait" };
  const next = { ...base, acquireTime: time, leaseTransitions: record.leaseTransitions + 1 };
  return { action: "acquire", next };
}

/** What the leader writes when it steps down: no holder, so anyone may take it at once. */
export function releasedLease(record: LeaseRecord, now: number): LeaseRecord {
  const time = rfc3339Micro(now);
  const { leaseTransitions, resourceVersion } = record;
  const released = { leaseDurationSeconds: 1, acquireTime: time, renewTime: time };
  return resourceVersion === undefined
    ? { ...released, leaseTransitions }
    : { ...released, leaseTransitions, resourceVersion };
}

function isHeld(record: LeaseRecord, now: number, observedAtMs: number | undefined): boolean {
  if ((record.holderIdentity ?? "") === "") return false;
  const since = observedAtMs ?? parseTime(record.renewTime);
  if (since === undefined) return false;
  return since + record.leaseDurationSeconds * 1000 >= now;
}

function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface LeaderElectorOptions {
  readonly store: LeaseStore;
  readonly clock: Clock;
  /** Unique per replica, e.g. the pod name. */
  readonly identity: string;
  /** How long others wait after the last renewal before taking over. Default 15 s. */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps leading without a successful renewal. Default 10 s. */
  readonly renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. Default 2 s. */
  readonly retryPeriodMs?: number;
  /** Starts leader-only work; signal aborts when leadership ends. A returned promise is awaited
   * before the lease is released, so guarded work never overlaps the next leader's. */
  readonly onStartedLeading?: (signal: AbortSignal) => void | Promise<void>;
  /** Called after the leader-only work has finished. */
  readonly onStoppedLeading?: () => void;
  /** Store failures, timeouts and callback errors; the elector retries, this is for logs. */
  readonly onError?: (error: unknown) => void;
}

type Attempt = "held" | "taken" | "failed";

export const LEADER_DEFAULTS = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
} as const;

type Timing = Record<keyof typeof LEADER_DEFAULTS, number>;

export class LeaderElector {
  private readonly options: LeaderElectorOptions;
  private leading = false;
  private running = false;
  private held: LeaseRecord | undefined;
  private observedKey: string | undefined;
  private observedAt = 0;
  /** The last read-decide-write round, which may outlive an abort (see release). */
  private inflight: Promise<unknown> = Promise.resolve();

  constructor(options: LeaderElectorOptions) {
    this.options = options;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns until signal aborts: acquire, lead while renewals succeed, step down after
   * renewDeadline without one, repeat. On abort it waits for the work, releases, returns. */
  async run(signal: AbortSignal): Promise<void> {
    const timing = this.timing();
    if (this.running) throw new Error("LeaderElector.run is already running");
    this.running = true;
    try {
      while (!signal.aborted) {
        const acquiredAt = await this.acquire(signal, timing);
        if (acquiredAt === undefined) return;
        await this.lead(signal, timing, acquiredAt);
      }
    } finally {
      this.running = false;
    }
  }

  private timing(): Timing {
    const timing = {
      leaseDurationMs: this.options.leaseDurationMs ?? LEADER_DEFAULTS.leaseDurationMs,
      renewDeadlineMs: this.options.renewDeadlineMs ?? LEADER_DEFAULTS.renewDeadlineMs,
      retryPeriodMs: this.options.retryPeriodMs ?? LEADER_DEFAULTS.retryPeriodMs,
    };
    // client-go's rules: the leader must give up before others may take over.
    const { leaseDurationMs: lease, renewDeadlineMs: renew, retryPeriodMs: retry } = timing;
    if (retry > 0 && renew > retry && lease > renew) return timing;
    const message = "leader election needs leaseDuration > renewDeadline > retryPeriod > 0";
    throw new GuardError(ErrorCodes.CONFIG_INVALID, message, { details: timing });
  }

  /** Resolves with the time of the successful attempt, or undefined when signal aborts first. */
  private async acquire(signal: AbortSignal, timing: Timing): Promise<number | undefined> {
    while (!signal.aborted) {
      const started = this.options.clock.now();
      if ((await this.attempt(signal, timing.renewDeadlineMs, timing)) === "held") return started;
      await this.options.clock.sleep(timing.retryPeriodMs, signal);
    }
    return undefined;
  }

  private async lead(signal: AbortSignal, timing: Timing, acquiredAt: number): Promise<void> {
    const leadership = new AbortController();
    this.leading = true;
    const work = this.startWork(leadership.signal);
    await this.holdLease(signal, timing, acquiredAt);
    this.leading = false;
    const lost = new GuardError(ErrorCodes.LEADER_LOST, "lease not renewed in time");
    leadership.abort(signal.aborted ? signal.reason : lost);
    await work;
    try {
      this.options.onStoppedLeading?.();
    } catch (err: unknown) {
      this.report(err);
    }
    if (signal.aborted) await this.release(timing);
  }

  /** Renews every retryPeriod; returns when the lease is lost or signal aborts. */
  private async holdLease(signal: AbortSignal, timing: Timing, acquiredAt: number): Promise<void> {
    const { clock } = this.options;
    let lastRenew = acquiredAt;
    for (;;) {
      await clock.sleep(timing.retryPeriodMs, signal);
      if (signal.aborted) return;
      const started = clock.now();
      const budget = lastRenew + timing.renewDeadlineMs - started;
      const result = budget > 0 ? await this.attempt(signal, budget, timing) : "failed";
      if (result === "held") lastRenew = started;
      else if (result === "taken" || clock.now() - lastRenew >= timing.renewDeadlineMs) return;
    }
  }

  private async startWork(signal: AbortSignal): Promise<void> {
    try {
      await this.options.onStartedLeading?.(signal);
    } catch (err: unknown) {
      this.report(err);
    }
  }

  /** One read-decide-write round, bounded by timeoutMs so a hung request cannot extend a lead. */
  private attempt(signal: AbortSignal, timeoutMs: number, timing: Timing): Promise<Attempt> {
    const work = this.tryAcquireOrRenew(timing).catch((err: unknown) => {
      this.report(err);
      return "failed" as const;
    });
    this.inflight = work;
    return settleWithin(this.options.clock, work, {
      timeoutMs,
      signal,
      fallback: "failed",
      onTimeout: () => {
        this.report(new GuardError(ErrorCodes.KUBE_REQUEST_FAILED, "lease request timed out"));
      },
    });
  }

  private async tryAcquireOrRenew(timing: Timing): Promise<Attempt> {
    const { store, clock, identity } = this.options;
    const current = await store.get();
    const now = clock.now();
    const decision = decideLease(current, identity, now, {
      leaseDurationMs: timing.leaseDurationMs,
      observedAtMs: this.observe(current, now),
    });
    if (decision.action === "wait") return "taken";
    const { next } = decision;
    this.held = decision.action === "create" ? await store.create(next) : await store.update(next);
    return "held";
  }

  /** Tracks when the current record was first seen, ignoring resourceVersion-only changes. */
  private observe(record: LeaseRecord | undefined, now: number): number {
    const key = JSON.stringify([
      record?.holderIdentity,
      record?.renewTime,
      record?.leaseTransitions,
    ]);
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = now;
    }
    return this.observedAt;
  }

  /** Steps down in the store (client-go's ReleaseOnCancel) so the next leader need not wait. */
  private async release(timing: Timing): Promise<void> {
    const held = this.held;
    this.held = undefined;
    if (held?.holderIdentity !== this.options.identity) return;
    const stepDown = this.stepDown().catch((err: unknown) => {
      this.report(err);
    });
    await settleWithin(this.options.clock, stepDown, {
      timeoutMs: timing.renewDeadlineMs,
      fallback: undefined,
    });
  }

  /**
   * Writes the released record over the lease's current version. A renewal cut short by the
   * abort may still land first (it bumps resourceVersion, and the release would then be refused
   * as a conflict, leaving the next leader to wait out the whole lease): wait for it, then read
   * the lease fresh, and retry a conflict a few times while the lease is still ours.
   */
  private async stepDown(): Promise<void> {
    const { store, clock, identity } = this.options;
    await this.inflight;
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await store.get();
      if (current?.holderIdentity !== identity) return;
      try {
        await store.update(releasedLease(current, clock.now()));
        return;
      } catch (err: unknown) {
        if (!isGuardError(err, ErrorCodes.KUBE_CONFLICT)) throw err;
      }
    }
  }

  private report(err: unknown): void {
    try {
      this.options.onError?.(err);
    } catch {
      // A failing log hook must not break the election loop.
    }
  }
}

/** Resolves with work's value, or fallback after timeoutMs or on abort. work must not reject. */
function settleWithin<T>(
  clock: Clock,
  work: Promise<T>,
  options: { timeoutMs: number; fallback: T; signal?: AbortSignal; onTimeout?: () => void },
): Promise<T> {
  const { signal, fallback } = options;
  const settled = new AbortController();
  const stop = signal === undefined ? settled.signal : AbortSignal.any([signal, settled.signal]);
  const timeout = clock.sleep(options.timeoutMs, stop).then(() => {
    if (!stop.aborted) options.onTimeout?.();
    return fallback;
  });
  // Aborting `settled` cancels the timer once either side wins.
  return Promise.race([work, timeout]).finally(() => {
    settled.abort();
  });
}
