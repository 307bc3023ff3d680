/**
 * A component that dies after start stops the process, as a controller manager's runnable does:
 * the run rejects with a stable code, /readyz says 503 from the moment it died, and the Lease is
 * released at once (no renewal after), so a standby takes over without waiting out the lease.
 * Lease loss ends the run the same way, instead of campaigning again with stale state.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { ErrorCodes, GuardError } from "../src/errors.js";
import { Informer } from "../src/kube/informer.js";
import { kubeLeaseStore } from "../src/kube/lease-store.js";
import type { KubeObject } from "../src/kube/objects.js";
import { createServices, runComponents, type Services } from "../src/main.js";
import { realClock } from "../src/runtime/clock.js";
import type { Component } from "../src/runtime/component.js";
import { LeaderElector, type LeaseRecord, type LeaseStore } from "../src/runtime/leader.js";
import { clientAs, eventually, testNamespace } from "./envtest/context.js";
import { IN_PROCESS_TIMING, leaderConfig } from "./helpers/leader-config.js";
import { sink } from "./helpers/log-sink.js";

const LEASE = { apiVersion: "coordination.k8s.io/v1", kind: "Lease" } as const;
const CM = { apiVersion: "v1", kind: "ConfigMap" } as const;
const TIMING = IN_PROCESS_TIMING;

/**
 * A leader-only component over a real informer that throws once a ConfigMap named "fail-now"
 * shows up in its namespace: it dies in the middle of its work, on a real cluster event.
 */
function exploding(services: Services, namespace: string): Component {
  const informer = new Informer({ client: services.kube, type: CM, namespace, clock: realClock() });
  return {
    name: "exploding",
    leaderOnly: true,
    readiness: () => ({ "informer:exploding": informer.synced() }),
    async run(signal) {
      informer.start();
      try {
        await new Promise<void>((resolve, reject) => {
          informer.on("add", (obj: KubeObject) => {
            if (obj.metadata.name === "fail-now") reject(new Error("journal volume went away"));
          });
          signal.addEventListener("abort", () => {
            resolve();
          });
        });
      } finally {
        await informer.stop();
      }
    },
  };
}

/** An always-on component that takes until the test lets it to stop: it holds the window
 * between the failure and the exit open, so the test can look at the process inside it. */
function slowToStop(): Component & { finishStopping: () => void; stopping: Promise<void> } {
  let finish = (): void => undefined;
  let stopping = (): void => undefined;
  const stoppingP = new Promise<void>((resolve) => (stopping = resolve));
  const finished = new Promise<void>((resolve) => (finish = resolve));
  return {
    name: "slow-to-stop",
    leaderOnly: false,
    readiness: () => ({ "slow-to-stop": true }),
    stopping: stoppingP,
    finishStopping: () => {
      finish();
    },
    async run(signal) {
      await new Promise<void>((resolve) => {
        signal.addEventListener("abort", () => {
          resolve();
        });
      });
      stopping();
      await finished;
    },
  };
}

interface LeaseView {
  readonly spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    renewTime?: string;
  };
  readonly resourceVersion: string;
}

async function lease(namespace: string, name: string): Promise<LeaseView> {
  const obj = await clientAs("admin").get({ ...LEASE, namespace, name });
  if (obj === undefined) throw new Error(`Lease ${namespace}/${name} not found`);
  return {
    spec: obj["spec"] ?? {},
    resourceVersion: obj.metadata.resourceVersion ?? "",
  };
}

/**
 * A second election on a Lease of its own, with the same retry period, counting its writes:
 * its second renewal is a marker event at least two retry periods later, so "no renewal of the
 * released Lease happened by then" is proven by an event, not by a sleep.
 */
function markerElection(namespace: string): { writes: () => number } {
  let writes = 0;
  const inner = kubeLeaseStore(clientAs("admin"), namespace, "marker");
  const store: LeaseStore = {
    get: () => inner.get(),
    create: async (r: LeaseRecord) => {
      const created = await inner.create(r);
      writes++;
      return created;
    },
    update: async (r: LeaseRecord) => {
      const updated = await inner.update(r);
      writes++;
      return updated;
    },
  };
  const elector = new LeaderElector({
    store,
    clock: realClock(),
    identity: "marker",
    leaseDurationMs: TIMING.lease * 1000,
    renewDeadlineMs: TIMING.renew * 1000,
    retryPeriodMs: TIMING.retry * 1000,
  });
  const abort = new AbortController();
  const running = elector.run(abort.signal);
  onTestFinished(async () => {
    abort.abort();
    await running;
  });
  return { writes: () => writes };
}

/** Whatever running settles with (its rejection's error, or undefined), or "still running"
 * after ms: a bound on waiting for an exit, not a sleep. Aborts stop on the way out. */
async function outcomeWithin(
  running: Promise<void>,
  stop: AbortController,
  ms: number,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<string>((resolve) => {
    timer = setTimeout(resolve, ms, "still running");
  });
  try {
    return await Promise.race([
      running.then(
        () => undefined,
        (err: unknown) => err,
      ),
      bound,
    ]);
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}

async function readyz(opsUrl: string): Promise<{ status: number; failing: string[] }> {
  const res = await fetch(`${opsUrl}/readyz`);
  const body = (await res.json()) as { failing: string[] };
  return { status: res.status, failing: body.failing };
}

describe("gitops-guard run: a failed component stops the process", () => {
  it("rejects with the code, answers 503 until it exits, and releases the Lease with no renewal after", async () => {
    const ns = await testNamespace("fail");
    const config = leaderConfig(ns);
    const leaseName = config.leaderElection.leaseName;
    const logs = sink();
    const services = createServices(config, { logDestination: logs.stream });
    const slow = slowToStop();
    let opsUrl = "";
    let settled = false;
    const stop = new AbortController();
    const running = runComponents(config, services, [exploding(services, ns), slow], {
      signal: stop.signal,
      onListening: (url) => (opsUrl = url),
    });
    const outcome = running.then(
      () => undefined,
      (err: unknown) => err,
    );
    void outcome.finally(() => (settled = true));
    onTestFinished(async () => {
      stop.abort();
      slow.finishStopping();
      await outcome;
    });
    await eventually(
      "the leader to be ready",
      async () => opsUrl !== "" && (await readyz(opsUrl)).status === 200,
    );
    expect((await lease(ns, leaseName)).spec.holderIdentity).toBe("replica-1");

    await clientAs("admin").create({ ...CM, metadata: { name: "fail-now", namespace: ns } });
    await eventually(
      "/readyz to answer 503 once the component died",
      async () => (await readyz(opsUrl)).status === 503,
      10_000,
    );
    // Inside the window: the component died, the process has not exited yet.
    await slow.stopping;
    expect(settled).toBe(false);
    expect(await readyz(opsUrl)).toEqual({ status: 503, failing: ["component:exploding"] });
    await eventually(
      "the Lease to be released",
      async () => (await lease(ns, leaseName)).spec.holderIdentity === undefined,
      TIMING.renew * 1000,
    );
    const released = await lease(ns, leaseName);
    // client-go's ReleaseOnCancel: no holder, the shortest duration, so a standby takes it at once.
    expect(released.spec.leaseDurationSeconds).toBe(1);
    const marker = markerElection(ns);
    await eventually("two renewals of the marker Lease", () => marker.writes() >= 3, 10_000);
    expect((await lease(ns, leaseName)).resourceVersion).toBe(released.resourceVersion);
    expect(settled).toBe(false);

    slow.finishStopping();
    const err = await outcome;
    expect(err).toBeInstanceOf(GuardError);
    expect(err).toMatchObject({
      code: ErrorCodes.COMPONENT_FAILED,
      message: "component exploding failed: journal volume went away",
    });
    const failures = logs.lines().filter((l) => l["msg"] === "component failed");
    expect(failures).toEqual([
      expect.objectContaining({
        level: "error",
        component: "exploding",
        code: ErrorCodes.COMPONENT_FAILED,
      }),
    ]);
    expect((await lease(ns, leaseName)).resourceVersion).toBe(released.resourceVersion);
    await expect(fetch(`${opsUrl}/healthz`)).rejects.toThrow();
  });

  it("ends with GG_LEADER_LOST when another holder takes the Lease, instead of campaigning again", async () => {
    const ns = await testNamespace("fail");
    const config = leaderConfig(ns);
    const leaseName = config.leaderElection.leaseName;
    const logs = sink();
    const services = createServices(config, { logDestination: logs.stream });
    const stop = new AbortController();
    let opsUrl = "";
    const running = runComponents(config, services, [exploding(services, ns)], {
      signal: stop.signal,
      onListening: (url) => (opsUrl = url),
    });
    onTestFinished(async () => {
      stop.abort();
      await running.catch(() => undefined);
    });
    await eventually(
      "the leader to be ready",
      async () => opsUrl !== "" && (await readyz(opsUrl)).status === 200,
    );
    // Someone else holds it now (a partition healed the other way, say): a fresh renewTime, so
    // replica-1 cannot take it back, and its next renewal finds it taken.
    const current = await clientAs("admin").get({ ...LEASE, namespace: ns, name: leaseName });
    if (current === undefined) throw new Error("no Lease");
    const spec = current["spec"] as Record<string, unknown>;
    const now = new Date().toISOString().replace(/Z$/, "000Z");
    await clientAs("admin").replace({
      ...current,
      spec: { ...spec, holderIdentity: "intruder", renewTime: now, acquireTime: now },
    });
    // Its next renewal finds the Lease taken: one retry period, plus one of slack for a busy CI.
    const err = await outcomeWithin(running, stop, (TIMING.renew + 2 * TIMING.retry) * 1000);
    expect(err).toMatchObject({ code: ErrorCodes.LEADER_LOST });
    expect(logs.lines().filter((l) => l["msg"] === "component failed")).toEqual([
      expect.objectContaining({ component: "leader-election", code: ErrorCodes.LEADER_LOST }),
    ]);
    // The intruder's Lease is left alone: only a holder releases.
    expect((await lease(ns, leaseName)).spec.holderIdentity).toBe("intruder");
  });
});
