import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { kubeLeaseStore } from "../../src/kube/lease-store.js";
import { realClock } from "../../src/runtime/clock.js";
import { LeaderElector } from "../../src/runtime/leader.js";
import { clientAs, envtest, eventually, testNamespace } from "../envtest/context.js";

const TIMING = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };

function candidate(
  namespace: string,
  identity: string,
): { elector: LeaderElector; stop: () => Promise<void>; led: number[] } {
  const led: number[] = [];
  const elector = new LeaderElector({
    store: kubeLeaseStore(clientAs("secrets"), namespace, "controller"),
    clock: realClock(),
    identity,
    ...TIMING,
    onStartedLeading: () => {
      led.push(performance.now());
    },
  });
  const abort = new AbortController();
  const running = elector.run(abort.signal);
  const stop = async (): Promise<void> => {
    abort.abort();
    await running;
  };
  onTestFinished(stop);
  return { elector, stop, led };
}

function leaseHolder(namespace: string): { kill: () => void; leading: Promise<void> } {
  const script = fileURLToPath(new URL("./fixtures/lease-holder.ts", import.meta.url));
  // node itself, with tsx as a loader: the tsx CLI would put a second process between the test
  // and the candidate, and SIGKILL would not reach the one holding the lease.
  const child = spawn(
    process.execPath,
    ["--import", "tsx", script, envtest().kubeconfigs.secrets, namespace, "controller", "holder-a"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  onTestFinished(() => {
    child.kill("SIGKILL");
  });
  const leading = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      if (d.toString().includes("leading")) resolve();
    });
    child.once("exit", (code) => {
      reject(new Error(`lease holder exited with ${String(code)}`));
    });
  });
  return { kill: () => child.kill("SIGKILL"), leading };
}

interface LeaseSpec {
  holderIdentity?: string;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

async function leaseSpec(namespace: string): Promise<LeaseSpec> {
  const lease = await clientAs("admin").get({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    namespace,
    name: "controller",
  });
  return lease?.["spec"] ?? {};
}

describe("leader election on a real Lease", () => {
  it("hands over within the lease duration when the holder dies without releasing", async () => {
    const ns = await testNamespace("lease");
    const holder = leaseHolder(ns);
    await holder.leading;
    const b = candidate(ns, "holder-b");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(b.elector.isLeader()).toBe(false);
    holder.kill();
    // The holder's last renewal, as the Lease records it: nothing renews it any more.
    const lastRenew = Date.parse((await leaseSpec(ns)).renewTime ?? "");
    await eventually("holder-b to take the lease", () => b.led.length > 0, 20_000);
    const taken = await leaseSpec(ns);
    expect(taken).toMatchObject({ holderIdentity: "holder-b", leaseTransitions: 1 });
    // Judged on the Lease's own timestamps, so a busy test machine does not blur it: never
    // before the lease expired (safety), and within client-go's bound after it (a candidate
    // takes an expired lease at its next retry; 1 s of slack for a loaded CI machine).
    const handover = Date.parse(taken.acquireTime ?? "") - lastRenew;
    expect(handover).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - 50);
    expect(handover).toBeLessThan(TIMING.leaseDurationMs + 2 * TIMING.retryPeriodMs + 1000);
  });

  it("lets exactly one of two candidates lead, and hands over at once when the leader stops", async () => {
    const ns = await testNamespace("lease");
    const a = candidate(ns, "replica-a");
    await eventually("replica-a to lead", () => a.elector.isLeader());
    const b = candidate(ns, "replica-b");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect([a.elector.isLeader(), b.elector.isLeader()]).toEqual([true, false]);
    await a.stop();
    const releasedAt = Date.now();
    await eventually("replica-b to lead", () => b.elector.isLeader(), 10_000);
    // A released lease is free at once: replica-b does not wait out the lease duration.
    const acquired = Date.parse((await leaseSpec(ns)).acquireTime ?? "");
    expect(acquired - releasedAt).toBeLessThan(TIMING.leaseDurationMs);
    expect(a.elector.isLeader()).toBe(false);
  });
});
