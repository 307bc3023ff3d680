// `gitops-guard run` as a real process of its own (node with tsx as a loader, so a signal reaches
// the process that holds the Lease, not a wrapper), against the envtest control plane, acting
// as service accounts of the test's own namespace: the Lease, the sealing keys and the Events it
// writes stay in that namespace and go with it.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, onTestFinished } from "vitest";
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import { JOURNAL_FILE, JournalStore } from "../../src/auditor/journal/store.js";
import { BASELINES_FILE, BaselineStore } from "../../src/auditor/journal/baseline-store.js";
import { runCli } from "../../src/cli/run-cli.js";
import { ErrorCodes, isGuardError } from "../../src/errors.js";
import { Informer } from "../../src/kube/informer.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { realClock } from "../../src/runtime/clock.js";
import { clientAs, eventually } from "../envtest/context.js";
import { freePort } from "../envtest/processes.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface GuardProcess {
  readonly identity: string;
  readonly opsUrl: string;
  /** Settles when the process has exited. */
  readonly exit: Promise<Exit>;
  exited(): boolean;
  /** Its log lines (pino JSON on stdout), parsed. */
  logs(): Record<string, unknown>[];
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
}

export interface GuardOptions {
  readonly identity: string;
  readonly kubeconfig: string;
  /** The product's namespace (--namespace): Lease, keys, service accounts. */
  readonly namespace: string;
  readonly stateDir: string;
  /** GITOPS_GUARD_* settings, such as the leader-election timings. */
  readonly env?: Readonly<Record<string, string>>;
  /** --components; the controller's three by default. */
  readonly components?: string;
  /** More flags, after the others. */
  readonly extraArgs?: readonly string[];
}

/**
 * The product's service accounts in namespace, with the rights the chart gives them (the
 * reconciler's ClusterRole is cluster-admin by default), removed when the test finishes.
 */
export async function productAccounts(namespace: string): Promise<void> {
  const admin = clientAs("admin");
  const bindings = [
    { sa: "gitops-guard-reconciler", role: "cluster-admin" },
    { sa: "gitops-guard-secrets", role: "envtest-gitops-guard-secrets" },
  ];
  for (const { sa, role } of bindings) {
    await admin.create({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: sa, namespace },
    });
    await admin.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `${namespace}-${sa}` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace }],
    });
    onTestFinished(async () => {
      await admin.delete({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        name: `${namespace}-${sa}`,
      });
    });
  }
}

function childEnv(extra: Readonly<Record<string, string>>): Record<string, string> {
  return {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: process.env["HOME"] ?? "/tmp",
    ...extra,
  };
}

/** Starts `gitops-guard run` with the controller's components; SIGKILLed if the test leaves it. */
export async function startGuard(opts: GuardOptions): Promise<GuardProcess> {
  const opsUrl = `http://127.0.0.1:${String(await freePort())}`;
  const args = [
    "--import",
    "tsx",
    "src/cli/bin.ts",
    "run",
    `--kubeconfig=${opts.kubeconfig}`,
    `--namespace=${opts.namespace}`,
    `--components=${opts.components ?? "secrets,reconciler,auditor"}`,
    `--state-dir=${opts.stateDir}`,
    `--ops-listen=${opsUrl.replace("http://", "")}`,
    `--identity=${opts.identity}`,
    "--unseal-threads=0",
    "--allow-file-urls",
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: childEnv(opts.env ?? {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  let done = false;
  const exit = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  onTestFinished(async (ctx) => {
    // What the process said, for a failed test: its log is the only witness of what it did.
    if (ctx.task.result?.state === "fail") {
      const tail = out.trim().split("\n").slice(-40).join("\n");
      process.stdout.write(`--- ${opts.identity} (last log lines)\n${tail}\n--- stderr\n${err}\n`);
    }
    if (done) return;
    child.kill("SIGKILL");
    await exit;
  });
  return {
    identity: opts.identity,
    opsUrl,
    exit,
    exited: () => done,
    logs: () =>
      out
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    stderr: () => err,
    kill: (signal) => {
      child.kill(signal);
    },
  };
}

/** Whether the process's /readyz answers 200 (false while it does not listen yet). */
export async function isReady(p: GuardProcess): Promise<boolean> {
  try {
    return (await fetch(`${p.opsUrl}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

const CM = { apiVersion: "v1", kind: "ConfigMap" } as const;
const LEASE = { apiVersion: "coordination.k8s.io/v1", kind: "Lease" } as const;
export const LEASE_NAME = "gitops-guard-controller";

export interface LeaseSpec {
  holderIdentity?: string;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** The controller Lease's spec, read through the shared API server. */
export async function leaseSpec(namespace: string): Promise<LeaseSpec> {
  const lease = await clientAs("admin").get({ ...LEASE, namespace, name: LEASE_NAME });
  return lease?.["spec"] ?? {};
}

/**
 * Opens one of the state directory's SQLite files while a leader may be creating it: the first
 * open switches it to WAL mode under an exclusive lock, and a reader that comes in then is told
 * "database is locked". Tries again for up to 2 s; any other failure is thrown at once.
 */
function openWhileCreated<T>(open: () => T): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return open();
    } catch (err: unknown) {
      if (!isGuardError(err, ErrorCodes.JOURNAL_OPEN_FAILED) || attempt >= 40) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

/**
 * The journal records about namespace, read from the state directory while a leader may be
 * writing it (SQLite in WAL mode lets readers in); none before a leader created it.
 */
export function journalIn(stateDir: string, namespace: string): JournalRecord[] {
  const path = join(stateDir, JOURNAL_FILE);
  if (!existsSync(path)) return [];
  const store = openWhileCreated(() => JournalStore.open(path, realClock()));
  try {
    return store.list({ namespace, limit: 10_000 });
  } finally {
    store.close();
  }
}

/**
 * The ConfigMaps of namespace the auditor keeps a baseline of (auditor-baselines.db in the state
 * directory): an edit is journaled only once the auditor watches the object, which it starts
 * doing after the GitSync's inventory names it.
 */
export function auditedConfigMaps(stateDir: string, namespace: string): string[] {
  const path = join(stateDir, BASELINES_FILE);
  if (!existsSync(path)) return [];
  const store = openWhileCreated(() => BaselineStore.open(path));
  try {
    const prefix = `/ConfigMap/${namespace}/`;
    return store
      .load()
      .filter((k) => k.id.startsWith(prefix))
      .map((k) => k.id.slice(prefix.length));
  } finally {
    store.close();
  }
}

/** data.v of every ConfigMap the test made in namespace, by name. */
export async function configMapValues(namespace: string): Promise<Map<string, string | undefined>> {
  const { items } = await clientAs("admin").list<KubeObject & { data?: { v?: string } }>(CM, {
    namespace,
  });
  return new Map(
    items
      .filter((cm) => cm.metadata.name !== "kube-root-ca.crt")
      .map((cm) => [cm.metadata.name ?? "", cm.data?.v]),
  );
}

/**
 * Runs action (synchronously, inside the watch event) when the API server reports the n-th
 * ConfigMap whose name starts with prefix created in namespace; resolves with Date.now() then.
 * start() is called once the watch is in place, so no creation can slip past it.
 */
export async function atNthCreated(
  namespace: string,
  target: { prefix: string; n: number },
  action: () => void,
  start: () => Promise<void>,
): Promise<number> {
  const watcher = new Informer({
    client: clientAs("admin"),
    type: CM,
    namespace,
    clock: realClock(),
  });
  onTestFinished(() => watcher.stop());
  let seen = 0;
  const fired = new Promise<number>((resolve) => {
    watcher.on("add", (obj) => {
      if (!(obj.metadata.name ?? "").startsWith(target.prefix) || ++seen !== target.n) return;
      action();
      resolve(Date.now());
    });
  });
  watcher.start();
  await watcher.waitForSync();
  await start();
  return fired;
}

async function cli(args: readonly string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await runCli(["node", "gitops-guard", ...args], {
    run: () => Promise.resolve(),
    env: {},
    hostname: hostname(),
    output: { writeOut: (t) => (out += t), writeErr: (t) => (out += t) },
  });
  return { code, out };
}

/**
 * The journal in stateDir, read once no process writes it: `audit verify` passes, sequence
 * numbers run 1..n with no gap or repeat, and each Event's record is there once.
 */
export async function checkedJournal(stateDir: string): Promise<JournalRecord[]> {
  const verified = await cli(["audit", "verify", "--state-dir", stateDir]);
  expect(verified.code, verified.out).toBe(0);
  const exported = await cli(["audit", "export", "--state-dir", stateDir]);
  expect(exported.code, exported.out).toBe(0);
  const records = exported.out
    .trim()
    .split("\n")
    .slice(0, -1)
    .map((l) => JSON.parse(l) as JournalRecord);
  expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
  const eventUids = records.flatMap((r) => (r.event === undefined ? [] : [r.event.uid]));
  expect(new Set(eventUids).size).toBe(eventUids.length);
  return records;
}

/**
 * Deletes a GitSync while a leader still runs, and waits until it is gone: the reconciler holds
 * a finalizer on it, and with no process left to drop it the namespace would stay Terminating.
 */
export async function deleteGitSync(namespace: string, name: string): Promise<void> {
  const ref = { apiVersion: "gitops-guard.io/v1alpha1", kind: "GitSync", namespace, name };
  const admin = clientAs("admin");
  await admin.delete(ref);
  await eventually(`GitSync ${namespace}/${name} to be gone`, async () => {
    return (await admin.get(ref)) === undefined;
  });
}

/** Short lease timings, with room for two busy cores: a leader that misses renewDeadline exits. */
export const TIMING = { lease: 5, renew: 4, retry: 1 } as const;
export const ELECTION_ENV: Readonly<Record<string, string>> = {
  GITOPS_GUARD_LEADER_ELECTION_LEASE_DURATION_SECONDS: String(TIMING.lease),
  GITOPS_GUARD_LEADER_ELECTION_RENEW_DEADLINE_SECONDS: String(TIMING.renew),
  GITOPS_GUARD_LEADER_ELECTION_RETRY_PERIOD_SECONDS: String(TIMING.retry),
};
