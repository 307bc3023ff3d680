import { describe, it, expect } from "vitest";
import { ErrorCodes, GuardError, isGuardError } from "../../src/errors.js";
import {
  LeaderElector,
  decideLease,
  releasedLease,
  rfc3339Micro,
  type LeaderElectorOptions,
  type LeaseRecord,
  type LeaseStore,
} from "../../src/runtime/leader.js";
import { FakeClock } from "../helpers/fake-clock.js";

const T0 = Date.UTC(2026, 0, 1);
const at = (ms: number): string => rfc3339Micro(T0 + ms);
const opts = { leaseDurationMs: 15_000 };

const heldByA: LeaseRecord = {
  holderIdentity: "a",
  leaseDurationSeconds: 15,
  acquireTime: at(0),
  renewTime: at(10_000),
  leaseTransitions: 2,
  resourceVersion: "41",
};

describe("decideLease", () => {
  it("creates a missing lease", () => {
    expect(decideLease(undefined, "a", T0, opts)).toEqual({
      action: "create",
      next: {
        holderIdentity: "a",
        leaseDurationSeconds: 15,
        acquireTime: "2026-01-01T00:00:00.000000Z",
        renewTime: "2026-01-01T00:00:00.000000Z",
        leaseTransitions: 0,
      },
    });
  });

  it("renews its own lease, keeping acquireTime, transitions and resourceVersion", () => {
    const decision = decideLease(heldByA, "a", T0 + 12_000, opts);
    expect(decision).toEqual({
      action: "renew",
      next: { ...heldByA, renewTime: at(12_000) },
    });
  });

  it("waits while another holder's lease is valid, up to and including its expiry", () => {
    expect(decideLease(heldByA, "b", T0 + 11_000, opts)).toEqual({ action: "wait" });
    expect(decideLease(heldByA, "b", T0 + 25_000, opts).action).toBe("wait");
  });

  it("takes an expired lease and counts the transition", () => {
    const decision = decideLease(heldByA, "b", T0 + 25_001, opts);
    expect(decision).toEqual({
      action: "acquire",
      next: {
        holderIdentity: "b",
        leaseDurationSeconds: 15,
        acquireTime: at(25_001),
        renewTime: at(25_001),
        leaseTransitions: 3,
        resourceVersion: "41",
      },
    });
  });

  it("takes a released lease at once", () => {
    const released = releasedLease(heldByA, T0 + 10_000);
    expect(decideLease(released, "b", T0 + 10_001, opts).action).toBe("acquire");
    const emptyHolder = { ...heldByA, holderIdentity: "" };
    expect(decideLease(emptyHolder, "b", T0 + 10_001, opts).action).toBe("acquire");
  });

  it("uses the holder's lease duration, not its own, to judge expiry", () => {
    const long = { ...heldByA, leaseDurationSeconds: 60 };
    expect(decideLease(long, "b", T0 + 60_000, { leaseDurationMs: 1000 }).action).toBe("wait");
    expect(decideLease(long, "b", T0 + 70_001, { leaseDurationMs: 1000 }).action).toBe("acquire");
  });

  it("with observedAtMs, counts expiry from local observation, not the holder's clock", () => {
    // The holder's clock runs an hour behind: its renewTime looks long expired.
    const skewed = { ...heldByA, renewTime: rfc3339Micro(T0 - 3_600_000) };
    expect(decideLease(skewed, "b", T0, opts).action).toBe("acquire");
    expect(decideLease(skewed, "b", T0, { ...opts, observedAtMs: T0 - 5000 }).action).toBe("wait");
    expect(decideLease(skewed, "b", T0, { ...opts, observedAtMs: T0 - 15_001 }).action).toBe(
      "acquire",
    );
  });

  it("treats a holder without a readable renewTime as expired", () => {
    const noRenew: LeaseRecord = {
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      leaseTransitions: 2,
    };
    expect(decideLease(noRenew, "b", T0, opts).action).toBe("acquire");
    expect(decideLease({ ...heldByA, renewTime: "yesterday" }, "b", T0, opts).action).toBe(
      "acquire",
    );
  });

  it("rounds its own duration up to whole seconds, at least one", () => {
    expect(
      decideLease(undefined, "a", T0, { leaseDurationMs: 1500 }).next?.leaseDurationSeconds,
    ).toBe(2);
    expect(decideLease(undefined, "a", T0, { leaseDurationMs: 0 }).next?.leaseDurationSeconds).toBe(
      1,
    );
  });

  it("releasedLease clears the holder and keeps what an update needs", () => {
    expect(releasedLease(heldByA, T0 + 20_000)).toEqual({
      leaseDurationSeconds: 1,
      acquireTime: at(20_000),
      renewTime: at(20_000),
      leaseTransitions: 2,
      resourceVersion: "41",
    });
  });

  it("formats MicroTime with six fractional digits", () => {
    expect(rfc3339Micro(T0 + 1234)).toBe("2026-01-01T00:00:01.234000Z");
  });
});

/** A lease in memory with the API server's optimistic concurrency. */
class MemoryLeaseStore implements LeaseStore {
  record: LeaseRecord | undefined;
  private version = 0;

  get(): Promise<LeaseRecord | undefined> {
    return Promise.resolve(this.record === undefined ? undefined : { ...this.record });
  }

  create(record: LeaseRecord): Promise<LeaseRecord> {
    if (this.record !== undefined) return Promise.reject(conflict("already exists"));
    return Promise.resolve(this.store(record));
  }

  update(record: LeaseRecord): Promise<LeaseRecord> {
    if (this.record?.resourceVersion !== record.resourceVersion) {
      return Promise.reject(conflict("stale resourceVersion"));
    }
    return Promise.resolve(this.store(record));
  }

  private store(record: LeaseRecord): LeaseRecord {
    this.version++;
    this.record = { ...record, resourceVersion: String(this.version) };
    return { ...this.record };
  }
}

function conflict(message: string): GuardError {
  return new GuardError(ErrorCodes.KUBE_CONFLICT, message);
}

/** One replica's view of the shared store, which a test can cut off or make hang. */
class ReplicaStore implements LeaseStore {
  mode: "ok" | "fail" | "hang" | "pause-updates" = "ok";
  private readonly inner: LeaseStore;
  private readonly paused: (() => void)[] = [];

  constructor(inner: LeaseStore) {
    this.inner = inner;
  }

  get(): Promise<LeaseRecord | undefined> {
    return this.gate(() => this.inner.get());
  }

  create(record: LeaseRecord): Promise<LeaseRecord> {
    return this.gate(() => this.inner.create(record));
  }

  update(record: LeaseRecord): Promise<LeaseRecord> {
    if (this.mode === "pause-updates") {
      return new Promise<void>((resolve) => this.paused.push(resolve)).then(() =>
        this.inner.update(record),
      );
    }
    return this.gate(() => this.inner.update(record));
  }

  private gate<T>(call: () => Promise<T>): Promise<T> {
    if (this.mode === "fail") {
      return Promise.reject(new GuardError(ErrorCodes.KUBE_REQUEST_FAILED, "connection refused"));
    }
    if (this.mode === "hang") return new Promise<T>(() => undefined);
    return call();
  }

  /** Lets the updates held in "pause-updates" mode go on, in order. */
  resume(): void {
    this.mode = "ok";
    for (const go of this.paused.splice(0)) go();
  }
}

interface Replica {
  elector: LeaderElector;
  store: ReplicaStore;
  controller: AbortController;
  events: string[];
  errors: unknown[];
  leadSignals: AbortSignal[];
  done: Promise<void>;
}

function startReplica(
  shared: LeaseStore,
  clock: FakeClock,
  identity: string,
  extra: Partial<LeaderElectorOptions> = {},
): Replica {
  const store = new ReplicaStore(shared);
  const controller = new AbortController();
  const events: string[] = [];
  const errors: unknown[] = [];
  const leadSignals: AbortSignal[] = [];
  const elector = new LeaderElector({
    store,
    clock,
    identity,
    onStartedLeading: (signal) => {
      leadSignals.push(signal);
      events.push(`start@${clock.now() - T0}`);
    },
    onStoppedLeading: () => events.push(`stop@${clock.now() - T0}`),
    onError: (err) => errors.push(err),
    ...extra,
  });
  const done = elector.run(controller.signal);
  return { elector, store, controller, events, errors, leadSignals, done };
}

/** Advances in small steps, checking that two replicas never lead at the same time. */
async function runFor(clock: FakeClock, ms: number, replicas: Replica[]): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += 100) {
    await clock.advance(100);
    const leaders = replicas.filter((r) => r.elector.isLeader());
    expect(leaders.length).toBeLessThanOrEqual(1);
  }
}

async function stop(...replicas: Replica[]): Promise<void> {
  for (const r of replicas) r.controller.abort();
  await Promise.all(replicas.map((r) => r.done));
}

describe("LeaderElector", () => {
  it("acquires a free lease at once, renews it, and releases it on cancel", async () => {
    const clock = new FakeClock(T0);
    const shared = new MemoryLeaseStore();
    const a = startReplica(shared, clock, "a");
    await clock.advance(0);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events).toEqual(["start@0"]);
    expect(a.leadSignals[0]?.aborted).toBe(false);
    await clock.advance(5000);
    expect(shared.record?.renewTime).toBe(at(4000));
    expect(shared.record?.acquireTime).toBe(at(0));
    await stop(a);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.leadSignals[0]?.aborted).toBe(true);
    expect(a.events).toEqual(["start@0", "stop@5000"]);
    expect(shared.record?.holderIdentity).toBeUndefined();
    expect(clock.pending()).toBe(0);
  });

  it("lets only one of two replicas lead", async () => {
    const clock = new FakeClock(T0);
    const shared = new MemoryLeaseStore();
    const a = startReplica(shared, clock, "a");
    const b = startReplica(shared, clock, "b");
    await runFor(clock, 60_000, [a, b]);
    expect([a, b].filter((r) => r.elector.isLeader())).toHaveLength(1);
    expect([...a.events, ...b.events]).toEqual(["start@0"]);
    expect(shared.record?.leaseTransitions).toBe(0);
    await stop(a, b);
  });

  it("hands over once the holder stops renewing; the holder steps down first", async () => {
    const clock = new FakeClock(T0);
    const shared = new MemoryLeaseStore();
    const a = startReplica(shared, clock, "a");
    await clock.advance(0);
    const b = startReplica(shared, clock, "b");
    await runFor(clock, 7000, [a, b]);
    a.store.mode = "fail";
    const lastRenew = Date.parse(shared.record?.renewTime ?? "") - T0;
    expect(lastRenew).toBe(6000);
    await runFor(clock, 30_000, [a, b]);
    expect(a.events).toEqual(["start@0", "stop@16000"]); // lastRenew + renewDeadline
    const takeover = Number(b.events[0]?.replace("start@", ""));
    expect(takeover - lastRenew).toBeGreaterThan(15_000);
    expect(takeover - lastRenew).toBeLessThanOrEqual(15_000 + 2 * 2000);
    expect(shared.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    expect(a.errors.length).toBeGreaterThan(0);
    expect(a.errors.every((e) => isGuardError(e, ErrorCodes.KUBE_REQUEST_FAILED))).toBe(true);
    await stop(a, b);
  });

  it("release on cancel lets the other replica take over at once", async () => {
    const clock = new FakeClock(T0);
    const shared = new MemoryLeaseStore();
    const a = startReplica(shared, clock, "a");
    await clock.advance(0);
    const b = startReplica(shared, clock, "b");
    await runFor(clock, 9000, [a, b]);
    a.controller.abort();
    await a.done;
    await runFor(clock, 2000, [a, b]);
    expect(b.events).toEqual(["start@10000"]); // b's next retry, not a lease duration later
    expect(shared.record).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    await stop(b);
  });

  it("releases when cancelled mid-renewal, after the renewal lands", async () => {
    const clock = new FakeClock(T0);
    const shared = new MemoryLeaseStore();
    const a = startReplica(shared, clock, "a");
    await clock.advance(0);
    const b = startReplica(shared, clock, "b");
    await runFor(clock, 3000, [a, b]);
    a.store.mode = "pause-updates";
    await clock.advance(1000); // a's renewal at 4000 has read the lease; its write waits
    a.controller.abort();
    await clock.advance(0);
    a.store.resume(); // the renewal lands first and bumps the lease's resourceVersion
    await a.done;
    expect(shared.record?.holderIdentity).toBeUndefined();
    await runFor(clock, 2000, [a, b]);
    expect(b.events).toEqual(["start@6000"]); // b's next retry, not a lease duration later
    await stop(b);
  });

  it("keeps the lease until the leader-only work has finished", async () => {
    const clock = new FakeClock(T0);
    const shared = new MemoryLeaseStore();
    let workDone = -1;
    const a = startReplica(shared, clock, "a", {
      onStartedLeading: async (signal) => {
        await new Promise<void>((resolve) => {
          signal.addEventListener("abort", () => {
            resolve();
          });
        });
        await clock.sleep(3000); // draining in-flight reconciles
        workDone = clock.now() - T0;
      },
    });
    await clock.advance(0);
    const b = startReplica(shared, clock, "b");
    await clock.advance(1000);
    a.controller.abort();
    await runFor(clock, 2500, [a, b]);
    expect(b.elector.isLeader()).toBe(false);
    expect(shared.record?.holderIdentity).toBe("a");
    await runFor(clock, 3000, [a, b]);
    await a.done;
    expect(workDone).toBe(4000);
    expect(b.elector.isLeader()).toBe(true);
    await stop(b);
  });

  it("steps down when someone else takes the lease, and campaigns again", async () => {
    const clock = new FakeClock(T0);
    const shared = new MemoryLeaseStore();
    const a = startReplica(shared, clock, "a");
    await clock.advance(1000);
    const current = shared.record;
    if (current === undefined) throw new Error("no lease");
    await shared.update({ ...current, holderIdentity: "intruder", renewTime: at(1000) });
    await clock.advance(1000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.events).toEqual(["start@0", "stop@2000"]);
    // The intruder never renews: a takes the lease back after one lease duration.
    await clock.advance(20_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events).toHaveLength(3);
    expect(shared.record).toMatchObject({ holderIdentity: "a", leaseTransitions: 1 });
    await stop(a);
  });

  it("survives store errors and leads once the store answers", async () => {
    const clock = new FakeClock(T0);
    const shared = new MemoryLeaseStore();
    const a = startReplica(shared, clock, "a");
    a.store.mode = "fail";
    await clock.advance(10_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.errors.length).toBeGreaterThanOrEqual(5);
    a.store.mode = "ok";
    await clock.advance(2000);
    expect(a.elector.isLeader()).toBe(true);
    await stop(a);
  });

  it("steps down by renewDeadline even when a renewal hangs", async () => {
    const clock = new FakeClock(T0);
    const shared = new MemoryLeaseStore();
    const a = startReplica(shared, clock, "a");
    await clock.advance(2000);
    a.store.mode = "hang";
    await clock.advance(12_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.events).toEqual(["start@0", "stop@12000"]);
    expect(a.errors.some((e) => isGuardError(e, ErrorCodes.KUBE_REQUEST_FAILED))).toBe(true);
    await stop(a);
  });

  it("reports a throwing callback and keeps the lease", async () => {
    const clock = new FakeClock(T0);
    const shared = new MemoryLeaseStore();
    const a = startReplica(shared, clock, "a", {
      onStartedLeading: () => {
        throw new Error("callback broke");
      },
    });
    await clock.advance(5000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.errors).toHaveLength(1);
    await stop(a);
  });

  it("rejects inconsistent timing and a second concurrent run", async () => {
    const clock = new FakeClock(T0);
    const shared = new MemoryLeaseStore();
    const bad = new LeaderElector({ store: shared, clock, identity: "x", renewDeadlineMs: 20_000 });
    await expect(bad.run(new AbortController().signal)).rejects.toSatisfy((e: unknown) =>
      isGuardError(e, ErrorCodes.CONFIG_INVALID),
    );
    const a = startReplica(shared, clock, "a");
    await expect(a.elector.run(new AbortController().signal)).rejects.toThrow(/already running/);
    await stop(a);
  });
});
