import { describe, it, expect } from "vitest";
import { ExponentialBackoff } from "../../src/runtime/backoff.js";
import { WorkQueue } from "../../src/runtime/queue.js";
import { FakeClock, flushMicrotasks } from "../helpers/fake-clock.js";

function setup(): { clock: FakeClock; queue: WorkQueue<string> } {
  const clock = new FakeClock();
  return { clock, queue: new WorkQueue<string>({ clock }) };
}

/** Takes every ready key (marking each in flight), in order. */
async function takeAll(queue: WorkQueue<string>): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) {
    const key = await queue.get();
    if (key !== undefined) keys.push(key);
  }
  return keys;
}

describe("WorkQueue add/get", () => {
  it("does nothing in the constructor", () => {
    const { clock, queue } = setup();
    expect(queue.len()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it("collapses repeated adds of a waiting key and keeps FIFO order", async () => {
    const { queue } = setup();
    for (const key of ["a", "b", "a", "c", "b", "a"]) queue.add(key);
    expect(queue.len()).toBe(3);
    expect(await takeAll(queue)).toEqual(["a", "b", "c"]);
  });

  it("get() waits until a key is added", async () => {
    const { queue } = setup();
    let got: string | undefined;
    const pending = queue.get().then((key) => (got = key));
    await flushMicrotasks();
    expect(got).toBeUndefined();
    queue.add("x");
    await pending;
    expect(got).toBe("x");
    expect(queue.inFlightLen()).toBe(1);
  });

  it("hands keys to waiting getters in the order they asked", async () => {
    const { queue } = setup();
    const first = queue.get();
    const second = queue.get();
    queue.add("a");
    queue.add("b");
    expect(await first).toBe("a");
    expect(await second).toBe("b");
  });

  it("does not hand out an in-flight key; an add marks it dirty and done() re-queues it", async () => {
    const { queue } = setup();
    queue.add("a");
    expect(await queue.get()).toBe("a");
    queue.add("a");
    queue.add("a");
    expect(queue.len()).toBe(0);
    queue.done("a");
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe("a");
    queue.done("a");
    expect(queue.len()).toBe(0);
  });

  it("done() of a key that is not in flight changes nothing", () => {
    const { queue } = setup();
    queue.add("a");
    queue.done("a");
    queue.done("b");
    expect(queue.len()).toBe(1);
    expect(queue.inFlightLen()).toBe(0);
  });

  it("never runs one key twice at once under many concurrent adds and several workers", async () => {
    const { queue } = setup();
    const keys = ["k0", "k1", "k2"];
    const running = new Map<string, number>();
    let maxPerKey = 0;
    let runs = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await queue.get();
        if (key === undefined) return;
        const now = (running.get(key) ?? 0) + 1;
        running.set(key, now);
        maxPerKey = Math.max(maxPerKey, now);
        runs++;
        await new Promise<void>((resolve) => setImmediate(resolve));
        running.set(key, (running.get(key) ?? 1) - 1);
        queue.done(key);
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    for (let round = 0; round < 50; round++) {
      for (const key of keys) queue.add(key);
      if (round % 3 === 0) await Promise.resolve();
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
    while (queue.len() > 0 || queue.inFlightLen() > 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    queue.shutDown();
    await Promise.all(workers);
    expect(maxPerKey).toBe(1);
    // Dedup collapses most adds, but every key ran, and more than once.
    expect(runs).toBeGreaterThan(keys.length);
    expect(runs).toBeLessThan(50 * keys.length);
  });
});

describe("WorkQueue addAfter", () => {
  it("makes a key ready after the delay, not before", async () => {
    const { clock, queue } = setup();
    queue.addAfter("a", 100);
    await clock.advance(99);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
    expect(queue.scheduledLen()).toBe(0);
  });

  it("an earlier addAfter replaces a later one", async () => {
    const { clock, queue } = setup();
    queue.addAfter("a", 100);
    queue.addAfter("a", 50);
    expect(clock.pending()).toBe(1);
    await clock.advance(50);
    expect(await takeAll(queue)).toEqual(["a"]);
    queue.done("a");
    await clock.advance(100);
    expect(queue.len()).toBe(0);
  });

  it("a later addAfter for a key scheduled earlier is ignored", async () => {
    const { clock, queue } = setup();
    queue.addAfter("a", 50);
    queue.addAfter("a", 100);
    expect(clock.pending()).toBe(1);
    await clock.advance(50);
    expect(await takeAll(queue)).toEqual(["a"]);
    queue.done("a");
    await clock.advance(100);
    expect(queue.len()).toBe(0);
  });

  it("is ignored for a key that is already ready", async () => {
    const { clock, queue } = setup();
    queue.add("a");
    queue.addAfter("a", 10);
    expect(clock.pending()).toBe(0);
    await clock.advance(10);
    expect(await takeAll(queue)).toEqual(["a"]);
  });

  it("add() makes a scheduled key ready now and drops its timer", async () => {
    const { clock, queue } = setup();
    queue.addAfter("a", 1000);
    queue.add("a");
    expect(clock.pending()).toBe(0);
    expect(await takeAll(queue)).toEqual(["a"]);
    queue.done("a");
    await clock.advance(1000);
    expect(queue.len()).toBe(0);
  });

  it("a delay of zero or less is a plain add", () => {
    const { clock, queue } = setup();
    queue.addAfter("a", 0);
    queue.addAfter("b", -5);
    expect(queue.len()).toBe(2);
    expect(clock.pending()).toBe(0);
  });

  it("schedules an in-flight key, which runs again after done() once due", async () => {
    const { clock, queue } = setup();
    queue.add("a");
    await queue.get();
    queue.addAfter("a", 20);
    await clock.advance(20);
    expect(queue.len()).toBe(0);
    queue.done("a");
    expect(await takeAll(queue)).toEqual(["a"]);
  });

  it("keys due at the same moment come out in scheduling order", async () => {
    const { clock, queue } = setup();
    queue.addAfter("b", 10);
    queue.addAfter("a", 10);
    queue.addAfter("c", 5);
    await clock.advance(10);
    expect(await takeAll(queue)).toEqual(["c", "b", "a"]);
  });

  it("rejects a NaN delay", () => {
    const { queue } = setup();
    expect(() => {
      queue.addAfter("a", Number.NaN);
    }).toThrow(RangeError);
  });
});

describe("WorkQueue addRateLimited", () => {
  it("backs off exponentially per key and forget() resets it", async () => {
    const { clock, queue } = setup();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const start = clock.now();
      queue.addRateLimited("a");
      while (queue.len() === 0) await clock.advance(1);
      delays.push(clock.now() - start);
      await queue.get();
      queue.done("a");
    }
    expect(delays).toEqual([5, 10, 20, 40]);
    expect(queue.failures("a")).toBe(4);
    expect(queue.failures("b")).toBe(0);
    queue.forget("a");
    expect(queue.failures("a")).toBe(0);
    queue.addRateLimited("a");
    await clock.advance(4);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
  });

  it("uses the injected backoff", async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue<string>({
      clock,
      backoff: new ExponentialBackoff({ baseMs: 1000, maxMs: 1500 }),
    });
    queue.addRateLimited("a");
    queue.addRateLimited("b");
    queue.addRateLimited("b");
    await clock.advance(999);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(await takeAll(queue)).toEqual(["a", "b"]);
    expect(queue.failures("b")).toBe(2);
  });
});

describe("WorkQueue shutDown", () => {
  it("wakes waiting get() calls with undefined and refuses new work", async () => {
    const { clock, queue } = setup();
    const waiting = [queue.get(), queue.get()];
    queue.addAfter("later", 100);
    queue.shutDown();
    expect(await Promise.all(waiting)).toEqual([undefined, undefined]);
    expect(clock.pending()).toBe(0);
    queue.add("a");
    queue.addAfter("b", 1);
    queue.addRateLimited("c");
    expect(queue.len()).toBe(0);
    expect(clock.pending()).toBe(0);
    expect(await queue.get()).toBeUndefined();
    expect(queue.isShutDown()).toBe(true);
  });

  it("does not re-queue a dirty key after shutdown, and drain() waits for in-flight keys", async () => {
    const { queue } = setup();
    queue.add("a");
    await queue.get();
    queue.add("a");
    let drained = false;
    queue.shutDown();
    const drain = queue.drain().then(() => (drained = true));
    await flushMicrotasks();
    expect(drained).toBe(false);
    queue.done("a");
    await drain;
    expect(drained).toBe(true);
    expect(queue.len()).toBe(0);
  });

  it("get(signal) resolves undefined on abort without swallowing a later key", async () => {
    const { queue } = setup();
    const controller = new AbortController();
    const pending = queue.get(controller.signal);
    controller.abort();
    expect(await pending).toBeUndefined();
    queue.add("a");
    expect(queue.len()).toBe(1);
    expect(await queue.get(controller.signal)).toBeUndefined();
    expect(await queue.get()).toBe("a");
  });
});
