import { describe, expect, it } from "vitest";
import { ErrorCodes, GuardError } from "../../src/errors.js";
import { Supervisor, type Component, type ComponentFailure } from "../../src/runtime/component.js";
import { FakeClock, flushMicrotasks } from "../helpers/fake-clock.js";

/** A component the test ends by hand: it runs until told to fail or return, or until aborted. */
interface Scripted extends Component {
  readonly signals: AbortSignal[];
  throwNow(err: unknown): void;
  returnNow(): void;
  /** Reject instead of resolving when aborted (a component that fails while stopping). */
  failOnStop?: Error;
}

function scripted(name: string): Scripted {
  let settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  const component: Scripted = {
    name,
    leaderOnly: false,
    signals: [],
    readiness: () => ({}),
    run(signal) {
      component.signals.push(signal);
      return new Promise<void>((resolve, reject) => {
        settle = { resolve, reject };
        signal.addEventListener("abort", () => {
          if (component.failOnStop === undefined) resolve();
          else reject(component.failOnStop);
        });
      });
    },
    throwNow: (err) => settle?.reject(err),
    returnNow: () => settle?.resolve(),
  };
  return component;
}

const GRACE_MS = 10_000;

function supervised(outside: AbortSignal = new AbortController().signal): {
  supervisor: Supervisor;
  clock: FakeClock;
  first: ComponentFailure[];
  later: ComponentFailure[];
} {
  const first: ComponentFailure[] = [];
  const later: ComponentFailure[] = [];
  const clock = new FakeClock();
  const supervisor = new Supervisor({
    signal: outside,
    clock,
    // As main.ts: none after a lost lease.
    graceMs: (f) => (f?.error.code === ErrorCodes.LEADER_LOST ? 0 : GRACE_MS),
    onFailure: (f) => first.push(f),
    onLaterFailure: (f) => later.push(f),
  });
  return { supervisor, clock, first, later };
}

/** A component that ignores its signal until the test lets it go (stuck on a request). */
function stuck(name: string): Component & { letGo: () => void } {
  let letGo = (): void => undefined;
  const done = new Promise<void>((resolve) => (letGo = resolve));
  return { name, leaderOnly: true, readiness: () => ({}), run: () => done, letGo };
}

describe("Supervisor", () => {
  it("stops every component when one throws, and ends with its error under one stable code", async () => {
    const { supervisor, first, later } = supervised();
    const [auditor, reconciler] = [scripted("auditor"), scripted("reconciler")];
    const running = Promise.all(
      [auditor, reconciler].map((c) => supervisor.run(c, supervisor.signal)),
    );
    await flushMicrotasks();
    expect(reconciler.signals[0]?.aborted).toBe(false);

    auditor.throwNow(new GuardError(ErrorCodes.JOURNAL_OPEN_FAILED, "disk full"));
    await running;
    expect(reconciler.signals[0]?.aborted).toBe(true);
    expect(first).toHaveLength(1);
    expect(later).toEqual([]);
    const failure = supervisor.failure();
    expect(failure?.component).toBe("auditor");
    expect(failure?.error).toMatchObject({
      code: ErrorCodes.COMPONENT_FAILED,
      message: "component auditor failed: GG_JOURNAL_OPEN_FAILED: disk full",
      details: { component: "auditor" },
    });
    // The others see why they are stopped.
    expect(reconciler.signals[0]?.reason).toBe(failure?.error);
    expect(() => {
      supervisor.throwIfFailed();
    }).toThrow(failure?.error);
  });

  it("counts a component that returns without being asked to as failed", async () => {
    const { supervisor, first } = supervised();
    const [secrets, auditor] = [scripted("secrets"), scripted("auditor")];
    const running = Promise.all(
      [secrets, auditor].map((c) => supervisor.run(c, supervisor.signal)),
    );
    await flushMicrotasks();
    secrets.returnNow();
    await running;
    expect(auditor.signals[0]?.aborted).toBe(true);
    expect(first.map((f) => [f.component, f.error.code, f.error.message])).toEqual([
      [
        "secrets",
        ErrorCodes.COMPONENT_FAILED,
        "component secrets failed: it stopped without being asked to",
      ],
    ]);
  });

  it("ends cleanly when stopped from outside and every component returns", async () => {
    const outside = new AbortController();
    const { supervisor, first, later } = supervised(outside.signal);
    const components = [scripted("a"), scripted("b")];
    const running = Promise.all(components.map((c) => supervisor.run(c, supervisor.signal)));
    await flushMicrotasks();
    outside.abort();
    await running;
    expect(supervisor.failure()).toBeUndefined();
    expect([...first, ...later]).toEqual([]);
    expect(() => {
      supervisor.throwIfFailed();
    }).not.toThrow();
  });

  it("keeps the first failure and reports the ones that come while stopping apart", async () => {
    const { supervisor, first, later } = supervised();
    const [a, b] = [scripted("a"), scripted("b")];
    b.failOnStop = new Error("flush failed");
    const running = Promise.all([a, b].map((c) => supervisor.run(c, supervisor.signal)));
    await flushMicrotasks();
    a.throwNow("boom");
    await running;
    expect(first.map((f) => f.component)).toEqual(["a"]);
    expect(later.map((f) => [f.component, f.error.message])).toEqual([
      ["b", "component b failed: flush failed"],
    ]);
    expect(supervisor.failure()?.error.message).toBe("component a failed: boom");
  });

  it("takes a failure from outside a component (a lost lease) the same way", async () => {
    const { supervisor } = supervised();
    const a = scripted("a");
    const running = supervisor.run(a, supervisor.signal);
    await flushMicrotasks();
    const lost = new GuardError(ErrorCodes.LEADER_LOST, "lease not renewed in time");
    supervisor.fail("leader-election", lost);
    await running;
    expect(a.signals[0]?.reason).toBe(lost);
    expect(supervisor.failure()).toEqual({ component: "leader-election", error: lost });
  });

  it("waits for every component to stop, without limit until asked to", async () => {
    const outside = new AbortController();
    const { supervisor, clock } = supervised(outside.signal);
    const a = scripted("a");
    let left: string[] | undefined;
    void supervisor.waitFor(supervisor.run(a, supervisor.signal)).then((l) => (left = l));
    await clock.advance(10 * GRACE_MS);
    expect(left).toBeUndefined();
    outside.abort();
    await flushMicrotasks();
    expect(left).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  it("leaves a component behind that does not stop within the grace, and names it", async () => {
    const outside = new AbortController();
    const { supervisor, clock } = supervised(outside.signal);
    const [a, hung] = [scripted("a"), stuck("reconciler")];
    let left: string[] | undefined;
    const work = Promise.all([a, hung].map((c) => supervisor.run(c, supervisor.signal)));
    void supervisor.waitFor(work).then((l) => (left = l));
    outside.abort();
    await clock.advance(GRACE_MS - 1);
    expect(left).toBeUndefined();
    await clock.advance(1);
    expect(left).toEqual(["reconciler"]);
    hung.letGo();
    await work;
  });

  it("waits for nothing once the lease is lost", async () => {
    const { supervisor, clock } = supervised();
    const hung = stuck("auditor");
    let left: string[] | undefined;
    const work = supervisor.run(hung, supervisor.signal);
    void supervisor.waitFor(work).then((l) => (left = l));
    supervisor.fail("leader-election", new GuardError(ErrorCodes.LEADER_LOST, "lost"));
    await clock.advance(0);
    expect(left).toEqual(["auditor"]);
    hung.letGo();
    await work;
  });
});
