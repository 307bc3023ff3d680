import { describe, it, expect } from "vitest";
import { runWorkers, type Outcome } from "../../src/runtime/controller.js";
import { WorkQueue } from "../../src/runtime/queue.js";
import {
  TerminalError,
  done,
  requeueAfter,
  type ReconcileResult,
} from "../../src/runtime/result.js";
import { FakeClock, flushMicrotasks } from "../helpers/fake-clock.js";

interface Reported {
  key: string;
  outcome: Outcome;
  durationMs: number;
  error: unknown;
}

function harness(reconcile: (key: string, signal: AbortSignal) => Promise<ReconcileResult>): {
  clock: FakeClock;
  queue: WorkQueue<string>;
  reported: Reported[];
  start: (workers?: number, signal?: AbortSignal) => Promise<void>;
} {
  const clock = new FakeClock();
  const queue = new WorkQueue<string>({ clock });
  const reported: Reported[] = [];
  const start = (workers = 1, signal?: AbortSignal): Promise<void> =>
    runWorkers({
      queue,
      reconcile,
      workers,
      clock,
      ...(signal === undefined ? {} : { signal }),
      onResult: (key, outcome, durationMs, error) => {
        reported.push({ key, outcome, durationMs, error });
      },
    });
  return { clock, queue, reported, start };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("runWorkers outcomes", () => {
  it("success: forgets the backoff and schedules nothing", async () => {
    const calls: string[] = [];
    const h = harness((key) => {
      calls.push(key);
      return Promise.resolve(done());
    });
    h.queue.addRateLimited("a"); // one earlier failure on record
    const running = h.start();
    await h.clock.advance(5);
    expect(calls).toEqual(["a"]);
    expect(h.queue.failures("a")).toBe(0);
    expect(h.clock.pending()).toBe(0);
    expect(h.reported).toEqual([{ key: "a", outcome: "success", durationMs: 0, error: undefined }]);
    h.queue.shutDown();
    await running;
  });

  it("requeue: runs the key again after requeueAfterMs", async () => {
    const calls: number[] = [];
    const h = harness(() => Promise.resolve((calls.push(0), requeueAfter(1000))));
    const running = h.start();
    h.queue.add("a");
    await h.clock.advance(0);
    expect(calls).toHaveLength(1);
    await h.clock.advance(999);
    expect(calls).toHaveLength(1);
    await h.clock.advance(1);
    expect(calls).toHaveLength(2);
    expect(h.reported.map((r) => r.outcome)).toEqual(["requeue", "requeue"]);
    h.queue.shutDown();
    await running;
  });

  it("requeueAfter(0) runs the key again right after done()", async () => {
    let calls = 0;
    const h = harness(() => Promise.resolve(++calls < 3 ? requeueAfter(0) : done()));
    const running = h.start();
    h.queue.add("a");
    await h.clock.advance(0);
    expect(calls).toBe(3);
    expect(h.reported.map((r) => r.outcome)).toEqual(["requeue", "requeue", "success"]);
    h.queue.shutDown();
    await running;
  });

  it("terminal: reports the error, resets backoff and never retries", async () => {
    const failure = new TerminalError("spec.url is empty", { code: "InvalidSpec" });
    let calls = 0;
    const h = harness(() => {
      calls++;
      return Promise.reject(failure);
    });
    h.queue.addRateLimited("a");
    const running = h.start();
    await h.clock.advance(3_600_000);
    expect(calls).toBe(1);
    expect(h.queue.failures("a")).toBe(0);
    expect(h.clock.pending()).toBe(0);
    expect(h.reported).toEqual([{ key: "a", outcome: "terminal", durationMs: 0, error: failure }]);
    h.queue.shutDown();
    await running;
  });

  it("retry: other errors back off exponentially until a success resets them", async () => {
    const times: number[] = [];
    const h = harness((key) => {
      times.push(h.clock.now() - start);
      return times.length <= 3 ? Promise.reject(new Error(`boom ${key}`)) : Promise.resolve(done());
    });
    const start = h.clock.now();
    const running = h.start();
    h.queue.add("a");
    await h.clock.advance(100);
    // Failures wait 5, 10, 20 ms: runs at 0, 5, 15, 35.
    expect(times).toEqual([0, 5, 15, 35]);
    expect(h.reported.map((r) => r.outcome)).toEqual(["retry", "retry", "retry", "success"]);
    expect(h.reported[0]?.error).toBeInstanceOf(Error);
    expect(h.queue.failures("a")).toBe(0);
    h.queue.shutDown();
    await running;
  });

  it("a synchronous throw is a retry too", async () => {
    const h = harness(() => {
      throw new Error("sync");
    });
    const running = h.start();
    h.queue.add("a");
    await h.clock.advance(0);
    expect(h.reported[0]?.outcome).toBe("retry");
    expect(h.queue.failures("a")).toBe(1);
    h.queue.shutDown();
    await running;
  });

  it("measures duration with the clock", async () => {
    const h = harness(async () => {
      await h.clock.sleep(250);
      return done();
    });
    const running = h.start();
    h.queue.add("a");
    await h.clock.advance(250);
    expect(h.reported[0]?.durationMs).toBe(250);
    h.queue.shutDown();
    await running;
  });

  it("keeps working when onResult throws", async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue<string>({ clock });
    const seen: string[] = [];
    const running = runWorkers({
      queue,
      clock,
      reconcile: (key) => (seen.push(key), done()),
      onResult: () => {
        throw new Error("metrics broke");
      },
    });
    queue.add("a");
    queue.add("b");
    await clock.advance(0);
    expect(seen).toEqual(["a", "b"]);
    queue.shutDown();
    await running;
  });
});

describe("runWorkers concurrency and stopping", () => {
  it("runs different keys in parallel but never one key twice at once", async () => {
    const running = new Map<string, number>();
    let maxPerKey = 0;
    let maxTotal = 0;
    let total = 0;
    const h = harness(async (key) => {
      const now = (running.get(key) ?? 0) + 1;
      running.set(key, now);
      total++;
      maxPerKey = Math.max(maxPerKey, now);
      maxTotal = Math.max(maxTotal, total);
      await h.clock.sleep(10);
      running.set(key, now - 1);
      total--;
      return done();
    });
    const workers = h.start(3);
    for (let step = 0; step < 20; step++) {
      for (const key of ["a", "b", "c", "d"]) h.queue.add(key);
      await h.clock.advance(3);
    }
    await h.clock.advance(100);
    expect(maxPerKey).toBe(1);
    expect(maxTotal).toBe(3);
    expect(h.reported.length).toBeGreaterThan(8);
    expect(h.reported.every((r) => r.outcome === "success")).toBe(true);
    h.queue.shutDown();
    await workers;
  });

  it("resolves when the queue shuts down", async () => {
    const h = harness(() => Promise.resolve(done()));
    let finished = false;
    const running = h.start(2).then(() => (finished = true));
    await flushMicrotasks();
    expect(finished).toBe(false);
    h.queue.shutDown();
    await running;
    expect(finished).toBe(true);
  });

  it("on abort stops taking keys but waits for in-flight reconciles", async () => {
    const gate = deferred();
    const signals: AbortSignal[] = [];
    const h = harness(async (key, signal) => {
      signals.push(signal);
      if (key === "slow") await gate.promise;
      return done();
    });
    const controller = new AbortController();
    let finished = false;
    const running = h.start(2, controller.signal).then(() => (finished = true));
    h.queue.add("slow");
    await flushMicrotasks();
    controller.abort();
    h.queue.add("next");
    await flushMicrotasks();
    expect(finished).toBe(false);
    expect(signals[0]?.aborted).toBe(true);
    gate.resolve();
    await running;
    expect(finished).toBe(true);
    expect(h.reported.map((r) => r.key)).toEqual(["slow"]);
    expect(h.queue.len()).toBe(1); // "next" is left for whoever owns the queue
  });

  it("rejects a worker count that is not a positive integer", async () => {
    const h = harness(() => Promise.resolve(done()));
    await expect(h.start(0)).rejects.toThrow(RangeError);
    await expect(h.start(1.5)).rejects.toThrow(RangeError);
  });
});
