/**
 * The API server stopped for 30 s in the middle of a sync, then started again. A controller
 * manager loses its lease once renewDeadline passes without a renewal, and exits: whatever it
 * was doing may be stale, and a standby (or its own restart) takes over from the cluster's
 * state. So the real `gitops-guard run` exits non-zero with GG_LEADER_LOST within about
 * renewDeadline, and the process started after the outage completes the sync as Git says.
 * A kube-apiserver of the test's own on the shared etcd (test/envtest/extra-apiserver.ts) is the
 * one stopped, so the other tests' API server stays up.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it, onTestFinished } from "vitest";
import { ErrorCodes } from "../src/errors.js";
import { envtest, eventually, testNamespace } from "./envtest/context.js";
import { extraApiServer } from "./envtest/extra-apiserver.js";
import {
  atNthCreated,
  checkedJournal,
  configMapValues,
  deleteGitSync,
  isReady,
  leaseSpec,
  productAccounts,
  startGuard,
  ELECTION_ENV,
  TIMING,
  type GuardProcess,
} from "./helpers/guard-process.js";
import { GitRepo } from "./reconciler/helpers/git-repo.js";
import { putGitSync, waitForApplied } from "./reconciler/helpers/harness.js";
import { configMap, yaml } from "./reconciler/helpers/manifests.js";

const BURST = 150;
const OUTAGE_MS = 30_000;
/** The lease is lost renewDeadline after the last renewal (at most a retry period before the
 * stop); the process then waits for nothing and exits; 5 s of slack for two busy cores. */
const EXIT_WITHIN_MS = (TIMING.renew + TIMING.retry) * 1000 + 5000;

const pad = (i: number): string => String(i).padStart(3, "0");

function burstFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < BURST; i++) {
    files[`apps/burst-${pad(i)}.yaml`] = yaml(configMap(`burst-${pad(i)}`, { v: "1" }));
  }
  return files;
}

async function leading(p: GuardProcess, ns: string): Promise<void> {
  await eventually(
    `${p.identity} to lead and be ready`,
    async () => (await leaseSpec(ns)).holderIdentity === p.identity && (await isReady(p)),
    60_000,
  );
}

describe("the API server stopped for 30 s in the middle of a sync", () => {
  it("the leader exits with GG_LEADER_LOST, and the process started after completes the sync as Git says", async () => {
    const started = performance.now();
    const ns = await testNamespace("outage");
    await productAccounts(ns);
    const api = await extraApiServer(envtest());
    await api.start();
    onTestFinished(() => api.stop());
    const stateDir = mkdtempSync(join(tmpdir(), "gg-outage-state-"));
    onTestFinished(() => {
      rmSync(stateDir, { recursive: true, force: true });
    });
    const repo = await GitRepo.create();
    const c1 = await repo.commit("burst", burstFiles());
    const start = (): Promise<GuardProcess> =>
      startGuard({
        identity: "replica-1",
        kubeconfig: api.kubeconfig,
        namespace: ns,
        stateDir,
        env: ELECTION_ENV,
      });
    const first = await start();
    await leading(first, ns);

    let stopping: Promise<void> = Promise.resolve();
    const stoppedAt = await atNthCreated(
      ns,
      { prefix: "burst-", n: 5 },
      () => {
        stopping = api.stop();
      },
      () =>
        putGitSync(ns, "apps", {
          url: repo.url,
          ref: { branch: "main" },
          path: "apps",
          prune: true,
          // The namespace goes with the test: deleting the GitSync need not prune it all.
          deletionPolicy: "Orphan",
        }),
    );
    await stopping;
    const atStop = (await configMapValues(ns)).size;
    expect(atStop).toBeLessThan(BURST); // stopped mid-sync
    await eventually("replica-1 to exit", () => first.exited(), EXIT_WITHIN_MS);
    const exitedAfterMs = Date.now() - stoppedAt;
    expect(await first.exit).toEqual({ code: 1, signal: null });
    expect(first.stderr()).toContain(`error ${ErrorCodes.LEADER_LOST}:`);
    expect(first.logs().filter((l) => l["msg"] === "component failed")).toEqual([
      expect.objectContaining({ component: "leader-election", code: ErrorCodes.LEADER_LOST }),
    ]);

    // The outage is the scenario's length, whatever the process did meanwhile.
    await delay(Math.max(0, stoppedAt + OUTAGE_MS - Date.now()));
    await api.start();
    const second = await start();
    await waitForApplied(ns, "apps", c1);
    await eventually("every object as Git says", async () => {
      const values = await configMapValues(ns);
      return values.size === BURST && [...values.values()].every((v) => v === "1");
    });
    await deleteGitSync(ns, "apps");
    second.kill("SIGTERM");
    expect(await second.exit).toEqual({ code: 0, signal: null });
    const records = await checkedJournal(stateDir);
    process.stdout.write(
      `outage: ${String(atStop)} of ${String(BURST)} objects applied when the API server stopped; ` +
        `the leader exited ${String(exitedAfterMs)} ms after; ` +
        `${String(records.length)} journal records; ` +
        `test ${String(Math.round(performance.now() - started))} ms\n`,
    );
  });
});
