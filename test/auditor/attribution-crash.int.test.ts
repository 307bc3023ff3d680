/**
 * Nothing lost to a crash. Reported: 10 out-of-band edits in a burst, the controller SIGKILLed
 * after the fifth and restarted: the edit made just before the kill was healed by self-heal and
 * never journaled (the restart found the object equal to Git). The webhook's fact (an Event)
 * outlives the controller and closes that. The burst, 20 times over, against a real
 * `gitops-guard run` process (reconciler and auditor) and the webhook beside it, as its own pods
 * are in a cluster: every edit journaled once, naming the admin who made it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import { startAdmission } from "../admission/harness.js";
import { clientAs, envtest, eventually, testNamespace } from "../envtest/context.js";
import {
  auditedConfigMaps,
  checkedJournal,
  configMapValues,
  deleteGitSync,
  isReady,
  journalIn,
  productAccounts,
  startGuard,
  type GuardProcess,
} from "../helpers/guard-process.js";
import { GitRepo } from "../reconciler/helpers/git-repo.js";
import { putGitSync, waitForApplied } from "../reconciler/helpers/harness.js";
import { configMap, yaml } from "../reconciler/helpers/manifests.js";
import { drifts, guardPolicyReady, webhookServing } from "./attribution-harness.js";

const ROUNDS = 20;
const EDITS = 10;
const KILL_AFTER = 5;
const NAMES = Array.from({ length: EDITS }, (_, i) => `cm-${String(i)}`);

/** The account the GitSync applies as (tenancy): admission knows it as the GitSync's writer. */
async function applierAccount(ns: string): Promise<void> {
  const admin = clientAs("admin");
  await admin.create({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "applier", namespace: ns },
  });
  await admin.create({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "applier-edit", namespace: ns },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
    subjects: [{ kind: "ServiceAccount", name: "applier", namespace: ns }],
  });
}

/** Every drift record of each object, by name. */
function countsByName(records: readonly JournalRecord[], ns: string): number[] {
  const ours = drifts(records, ns);
  return NAMES.map((n) => ours.filter((r) => r.object?.name === n).length);
}

/** The drift records, one line each, for a failed test's message. */
function dump(records: readonly JournalRecord[], ns: string): string {
  const lines = drifts(records, ns).map((r) =>
    JSON.stringify([r.seq, r.time, r.object?.name, r.message, r.diff, r.event?.name]),
  );
  return `JOURNAL\n${lines.join("\n")}\n`;
}

describe("attribution through a controller crash", () => {
  it(`journals every edit of ${String(ROUNDS)} bursts with a SIGKILL after the fifth, each naming its user`, async () => {
    const ns = await testNamespace("attr-crash");
    await productAccounts(ns);
    await applierAccount(ns);
    const stateDir = mkdtempSync(join(tmpdir(), "gg-attr-crash-"));
    onTestFinished(() => {
      rmSync(stateDir, { recursive: true, force: true });
    });
    await startAdmission(ns);
    await guardPolicyReady(ns);
    const start = (): Promise<GuardProcess> =>
      startGuard({
        identity: "crash",
        kubeconfig: envtest().kubeconfigs.admin,
        namespace: ns,
        stateDir,
      });
    let guard = await start();
    const repo = await GitRepo.create();
    const files = Object.fromEntries(
      NAMES.map((n) => [`apps/${n}.yaml`, yaml(configMap(n, { v: "git" }))]),
    );
    const commit = await repo.commit("ten", files);
    await putGitSync(ns, "apps", {
      url: repo.url,
      path: "apps",
      ref: { branch: "main" },
      serviceAccountName: "applier",
      prune: true,
      selfHeal: true,
      deletionPolicy: "Orphan",
    });
    await waitForApplied(ns, "apps", commit);
    await webhookServing(ns, "cm-0");
    await eventually("the auditor to watch the synced objects", () =>
      NAMES.every((n) => auditedConfigMaps(stateDir, ns).includes(n)),
    );

    const admin = clientAs("admin");
    const started = performance.now();
    for (let round = 1; round <= ROUNDS; round++) {
      await eventually("the controller ready", () => isReady(guard), 60_000);
      for (const [i, name] of NAMES.entries()) {
        await admin.mergePatch(
          { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name },
          { data: { v: `round-${String(round)}` } },
          { fieldManager: "kubectl-edit" },
        );
        if (i + 1 === KILL_AFTER) {
          guard.kill("SIGKILL");
          await guard.exit;
        }
      }
      guard = await start();
      let last = "";
      await eventually(
        `round ${String(round)}: every edit journaled and healed`,
        async () => {
          const values = await configMapValues(ns);
          const counts = countsByName(journalIn(stateDir, ns), ns);
          last = `records per object ${JSON.stringify(counts)}, values ${JSON.stringify([...values])}`;
          return counts.every((c) => c >= round) && NAMES.every((n) => values.get(n) === "git");
        },
        60_000,
      ).catch((err: unknown) => {
        process.stdout.write(dump(journalIn(stateDir, ns), ns));
        throw new Error(`${String(err)}; last seen: ${last}`);
      });
    }
    const elapsed = performance.now() - started;
    await deleteGitSync(ns, "apps");
    guard.kill("SIGTERM");
    expect(await guard.exit).toEqual({ code: 0, signal: null });

    const records = await checkedJournal(stateDir);
    // Each edit once: none missing, none doubled.
    expect(countsByName(records, ns), dump(records, ns)).toEqual(NAMES.map(() => ROUNDS));
    const ours = drifts(records, ns);
    const unnamed = ours.filter(
      (r) => r.user?.username !== "envtest-admin" || r.userSource !== "admission",
    );
    expect(unnamed.map((r) => [r.seq, r.object?.name, r.user?.username, r.userSource])).toEqual([]);
    const fromFacts = ours.filter((r) => (r.message ?? "").includes("not seen as drift")).length;
    process.stdout.write(
      `attribution crash: ${String(ROUNDS * EDITS)} edits in ${String(ROUNDS)} bursts, ${String(ours.length)} journaled ` +
        `(${String(fromFacts)} from a fact whose change self-heal undid before it was seen), ` +
        `${String(Math.round(elapsed / 1000))} s\n`,
    );
  });
});
