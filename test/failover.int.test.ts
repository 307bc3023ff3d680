/**
 * The leader SIGKILLed in the middle of a sync burst, with a standby running: two real
 * `gitops-guard run` processes on one Lease and ONE state directory, as a ReadWriteOnce volume
 * re-attached to the next pod would be (only the leader opens the journal). The standby leads
 * once the lease has expired, within two retry periods of that (the earliest the election
 * allows: docs/operations.md), finishes the sync as Git says, and the journal it takes over
 * holds exactly the records the scenario makes: none lost, none written twice.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import type { JournalRecord } from "../src/auditor/journal/record.js";
import { clientAs, envtest, eventually, testNamespace } from "./envtest/context.js";
import {
  atNthCreated,
  auditedConfigMaps,
  checkedJournal,
  configMapValues,
  deleteGitSync,
  isReady,
  journalIn,
  leaseSpec,
  productAccounts,
  startGuard,
  ELECTION_ENV,
  TIMING,
  type GuardProcess,
} from "./helpers/guard-process.js";
import { GitRepo } from "./reconciler/helpers/git-repo.js";
import { putGitSync, requestSync, waitForApplied } from "./reconciler/helpers/harness.js";
import { configMap, yaml } from "./reconciler/helpers/manifests.js";

const BURST = 150;
/** Orphan: the namespace goes with the test, so deleting the GitSync need not prune it all. */
const SPEC = { ref: { branch: "main" }, prune: true, selfHeal: true, deletionPolicy: "Orphan" };

const count = (records: readonly JournalRecord[], type: string, name: string): number =>
  records.filter((r) => r.type === type && r.object?.name === name).length;

/**
 * Every record the scenario must leave about the namespace, as "type name" -> how many: the
 * first leader's initial sealing key (the namespace is the controller's), and each out-of-band
 * edit detected once and healed once (cm-2 is edited twice), whichever leader saw it; the sync
 * itself (creations, changes and the prune Git asked for) is not drift.
 */
const EXPECTED_RECORDS: ReadonlyMap<string, number> = new Map([
  ["key-rotated sealing-key-initial", 1],
  ["drift-detected cm-0", 1],
  ["drift-healed cm-0", 1],
  ["drift-detected cm-1", 1],
  ["drift-healed cm-1", 1],
  ["drift-detected cm-2", 2],
  ["drift-healed cm-2", 2],
]);

interface Accounting {
  /** Expected but missing. */
  readonly lost: number;
  /**
   * Written twice: a detection of a state (resourceVersion) already detected, a heal with no
   * detection since the object's last heal, or more of a kind than expected.
   */
  readonly doubled: number;
  /** Records of a type and object the scenario does not produce. */
  readonly unexpected: readonly string[];
}

/** The journal's records about the namespace against EXPECTED_RECORDS. */
function account(records: readonly JournalRecord[]): Accounting {
  const actual = new Map<string, number>();
  for (const r of records) {
    const key = `${r.type} ${r.object?.name ?? ""}`;
    actual.set(key, (actual.get(key) ?? 0) + 1);
  }
  let lost = 0;
  let excess = 0;
  for (const [key, want] of EXPECTED_RECORDS) {
    const got = actual.get(key) ?? 0;
    lost += Math.max(0, want - got);
    excess += Math.max(0, got - want);
  }
  const unexpected = [...actual.keys()].filter((k) => !EXPECTED_RECORDS.has(k));
  return { lost, doubled: Math.max(repeated(records), excess), unexpected };
}

/** Records that repeat one already written: see Accounting.doubled. */
function repeated(records: readonly JournalRecord[]): number {
  const detected = new Set<string>();
  const last = new Map<string, string>();
  let twice = 0;
  for (const r of records) {
    const name = r.object?.name ?? "";
    if (r.type === "drift-detected") {
      const state = `${name}@${r.object?.resourceVersion ?? ""}`;
      if (detected.has(state)) twice++;
      detected.add(state);
    }
    if (r.type === "drift-healed" && last.get(name) === "drift-healed") twice++;
    last.set(name, r.type);
  }
  return twice;
}

const pad = (i: number): string => String(i).padStart(3, "0");

async function edit(namespace: string, name: string, v: string): Promise<void> {
  await clientAs("alice").mergePatch(
    { apiVersion: "v1", kind: "ConfigMap", namespace, name },
    { data: { v } },
    { fieldManager: "kubectl-edit" },
  );
}

/** BURST new objects, cm-3..cm-8 changed, cm-9 removed from Git. */
function burstFiles(): Record<string, string | null> {
  const files: Record<string, string | null> = {};
  for (let i = 0; i < BURST; i++) {
    files[`apps/burst-${pad(i)}.yaml`] = yaml(configMap(`burst-${pad(i)}`, { v: "1" }));
  }
  for (let i = 3; i < 9; i++) files[`apps/cm-${i}.yaml`] = yaml(configMap(`cm-${i}`, { v: "2" }));
  files["apps/cm-9.yaml"] = null;
  return files;
}

/** What Git says after the burst: name -> data.v. */
function expectedAfterBurst(): Map<string, string> {
  const expected = new Map<string, string>();
  for (let i = 0; i < 9; i++) expected.set(`cm-${i}`, i < 3 ? "1" : "2");
  for (let i = 0; i < BURST; i++) expected.set(`burst-${pad(i)}`, "1");
  return expected;
}

interface Replicas {
  readonly ns: string;
  readonly stateDir: string;
  readonly a: GuardProcess;
  readonly b: GuardProcess;
}

/** replica-a leading and ready, replica-b ready as its standby, one state directory. */
async function twoReplicas(): Promise<Replicas> {
  const ns = await testNamespace("failover");
  await productAccounts(ns);
  const stateDir = mkdtempSync(join(tmpdir(), "gg-failover-state-"));
  onTestFinished(() => {
    rmSync(stateDir, { recursive: true, force: true });
  });
  const start = (identity: string): Promise<GuardProcess> =>
    startGuard({
      identity,
      kubeconfig: envtest().kubeconfigs.admin,
      namespace: ns,
      stateDir,
      env: ELECTION_ENV,
    });
  const a = await start("replica-a");
  await eventually(
    "replica-a to lead and be ready",
    async () => (await leaseSpec(ns)).holderIdentity === "replica-a" && (await isReady(a)),
    60_000,
  );
  const b = await start("replica-b");
  await eventually("replica-b to be ready as a standby", () => isReady(b), 60_000);
  expect((await leaseSpec(ns)).holderIdentity).toBe("replica-a");
  return { ns, stateDir, a, b };
}

/** Edits cm-0..cm-2 out of band and waits until the leader has journaled and healed each. */
async function editsJournaled(leader: GuardProcess, ns: string, stateDir: string): Promise<void> {
  const names = ["cm-0", "cm-1", "cm-2"];
  await eventually(`${leader.identity}'s auditor to watch the synced objects`, () =>
    names.every((n) => auditedConfigMaps(stateDir, ns).includes(n)),
  );
  for (const name of names) await edit(ns, name, "edited");
  await eventually(
    `${leader.identity} to journal and heal the three edits`,
    async () => {
      const records = journalIn(stateDir, ns);
      const values = await configMapValues(ns);
      return names.every(
        (n) =>
          count(records, "drift-detected", n) === 1 &&
          count(records, "drift-healed", n) === 1 &&
          values.get(n) === "1",
      );
    },
    30_000,
  );
}

describe("failover: the leader SIGKILLed mid-sync, a standby running", () => {
  it("the standby leads within the lease duration, ends as Git says, no journal record lost or doubled", async () => {
    const started = performance.now();
    const { ns, stateDir, a, b } = await twoReplicas();
    const repo = await GitRepo.create();
    const first: Record<string, string> = {};
    for (let i = 0; i < 10; i++)
      first[`apps/cm-${i}.yaml`] = yaml(configMap(`cm-${i}`, { v: "1" }));
    const c1 = await repo.commit("ten", first);
    await putGitSync(ns, "apps", { url: repo.url, path: "apps", ...SPEC });
    await waitForApplied(ns, "apps", c1);
    await editsJournaled(a, ns, stateDir);

    const c2 = await repo.commit("burst", burstFiles());
    const transitionsBefore = (await leaseSpec(ns)).leaseTransitions ?? 0;
    const killedAt = await atNthCreated(
      ns,
      { prefix: "burst-", n: 5 },
      () => {
        a.kill("SIGKILL");
      },
      async () => {
        // One more edit just before the kill: the dying leader may or may not get to it.
        await edit(ns, "cm-2", "edited-again");
        await requestSync(ns, "apps");
      },
    );
    expect(await a.exit).toEqual({ code: null, signal: "SIGKILL" });
    const burstAtKill = [...(await configMapValues(ns)).keys()].filter((n) =>
      n.startsWith("burst-"),
    ).length;
    expect(burstAtKill).toBeLessThan(BURST); // it died mid-sync
    const lastRenew = Date.parse((await leaseSpec(ns)).renewTime ?? "");

    await eventually(
      "replica-b to take the Lease",
      async () => (await leaseSpec(ns)).holderIdentity === "replica-b",
      30_000,
    );
    const taken = await leaseSpec(ns);
    const acquired = Date.parse(taken.acquireTime ?? "");
    // Measured from the dead leader's last renewal: never before its lease expired (no two
    // leaders), and no later than the standby can see that: it counts expiry from when it saw
    // the renewal (up to one retry period late) and tries once a retry period, so a lease
    // duration plus two retry periods, with 500 ms for the API server's answers.
    expect(acquired - lastRenew).toBeGreaterThanOrEqual(TIMING.lease * 1000 - 50);
    expect(acquired - lastRenew).toBeLessThanOrEqual(
      (TIMING.lease + 2 * TIMING.retry) * 1000 + 500,
    );
    expect(taken.leaseTransitions).toBe(transitionsBefore + 1);

    await waitForApplied(ns, "apps", c2);
    const expected = expectedAfterBurst();
    await eventually("every object as Git says", async () => {
      const values = await configMapValues(ns);
      return values.size === expected.size && [...expected].every(([n, v]) => values.get(n) === v);
    });
    await eventually(
      "the edit made just before the kill to be journaled and its heal too",
      () => {
        const records = journalIn(stateDir, ns);
        return (
          count(records, "drift-detected", "cm-2") >= 2 &&
          count(records, "drift-healed", "cm-2") >= 2
        );
      },
      30_000,
    );
    await deleteGitSync(ns, "apps");
    b.kill("SIGTERM");
    expect(await b.exit).toEqual({ code: 0, signal: null });

    const records = await checkedJournal(stateDir);
    const ours = records.filter((r) => r.object?.namespace === ns);
    const { lost, doubled, unexpected } = account(ours);
    process.stdout.write(
      `failover: new leader ${String(acquired - killedAt)} ms after the kill, ` +
        `records lost ${String(lost)}, doubled ${String(doubled)}\n` +
        `failover detail: ${String(acquired - lastRenew)} ms after the last renewal; ` +
        `${String(burstAtKill)} of ${String(BURST)} burst objects applied at the kill; ` +
        `${JSON.stringify(ours.map((r) => [r.seq, r.type, r.object?.name]))}; ` +
        `test ${String(Math.round(performance.now() - started))} ms\n`,
    );
    expect({ lost, doubled, unexpected }).toEqual({ lost: 0, doubled: 0, unexpected: [] });
  });
});
