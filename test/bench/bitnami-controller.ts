// Controller processes for secrets-vs-bitnami.bench.ts: Bitnami's own controller (in-cluster
// config only, so it runs in a private mount namespace with a service account folder bound over
// /run) and ours (`gitops-guard run`), each under the envtest watchdog, with their CPU time read
// from /proc so both are measured the same way.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as delay } from "node:timers/promises";
import { kubectl } from "../envtest/bootstrap.js";
import { ensureBinaries } from "../envtest/binaries.js";
import type { ControlPlaneInfo } from "../envtest/control-plane.js";
import { freePort, startProcess, waitFor, type ManagedProcess } from "../envtest/processes.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
const BITNAMI_SA = "sealed-secrets-controller";

export interface ControllerProcess {
  readonly name: string;
  /** The controller's own pid (not the watchdog's). */
  readonly pid: number;
  /** Where /v1/cert.pem is served. */
  readonly url: string;
  readonly logFile: string;
  /** utime + stime of the controller process so far, in ms (all its threads). */
  cpuMs(): number;
  stop(): Promise<void>;
}

export interface ThreadCpu {
  readonly userMs: number;
  readonly systemMs: number;
}

/** utime and stime from a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat file, in ms. */
function statCpu(file: string): ThreadCpu {
  const stat = readFileSync(file, "utf8");
  // Fields after the command name (which may hold spaces) start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    userMs: (Number(fields[11]) * 1000) / CLK_TCK,
    systemMs: (Number(fields[12]) * 1000) / CLK_TCK,
  };
}

/** utime + stime of pid from /proc/<pid>/stat, in ms. */
export function processCpuMs(pid: number): number {
  const cpu = statCpu(`/proc/${String(pid)}/stat`);
  return cpu.userMs + cpu.systemMs;
}

/** The kube-apiserver and etcd processes of the control plane in info.dir (not their watchdogs). */
export function controlPlanePids(info: ControlPlaneInfo): { apiServer: number; etcd: number } {
  const found = { apiServer: 0, etcd: 0 };
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (!argv.some((a) => a.includes(info.dir))) continue;
    if (argv[0]?.endsWith("/kube-apiserver") === true) found.apiServer = Number(entry);
    if (argv[0]?.endsWith("/etcd") === true) found.etcd = Number(entry);
  }
  return found;
}

/** utime and stime of each live thread of pid, summed by thread name (/proc/<pid>/task/<tid>/comm). */
export function threadCpuMs(pid: number): Map<string, ThreadCpu> {
  const byName = new Map<string, ThreadCpu>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${String(pid)}/task`);
  } catch {
    return byName;
  }
  for (const tid of tids) {
    try {
      const base = `/proc/${String(pid)}/task/${tid}`;
      const name = readFileSync(`${base}/comm`, "utf8").trim();
      const cpu = statCpu(`${base}/stat`);
      const prev = byName.get(name) ?? { userMs: 0, systemMs: 0 };
      byName.set(name, {
        userMs: prev.userMs + cpu.userMs,
        systemMs: prev.systemMs + cpu.systemMs,
      });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return byName;
}

/** The watchdog runs the binary as its only child; that child is the process to measure. */
async function childOf(watchdog: ManagedProcess): Promise<number> {
  const file = `/proc/${String(watchdog.pid)}/task/${String(watchdog.pid)}/children`;
  let pid = 0;
  await waitFor(
    `the child of ${watchdog.name}'s watchdog`,
    () => {
      pid = Number(readFileSync(file, "utf8").trim().split(" ")[0] ?? "0");
      return Promise.resolve(pid > 0);
    },
    { timeoutMs: 10_000, intervalMs: 20, process: watchdog },
  );
  return pid;
}

/** The controller under a watchdog: its own pid, CPU time and a stop that reaches it first. */
export async function managed(
  proc: ManagedProcess,
  url: string,
  logFile: string,
): Promise<ControllerProcess> {
  // env, unshare and sh exec into the next program: the pid stays the controller's.
  const pid = await childOf(proc);
  return {
    name: proc.name,
    pid,
    url,
    logFile,
    cpuMs: () => processCpuMs(pid),
    stop: async () => {
      // One SIGTERM to the controller alone first: the group stop sends a second one through
      // the watchdog, which ends a Node process before it can write its CPU profile.
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // Already gone.
      }
      const deadline = performance.now() + 10_000;
      while (existsSync(`/proc/${String(pid)}`) && performance.now() < deadline) await delay(50);
      await proc.stop(10_000);
    },
  };
}

/** GETs url/v1/cert.pem until it answers 200 (the controller generated or loaded its key). */
export async function fetchCertPem(c: ControllerProcess, timeoutMs: number): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (!existsSync(`/proc/${String(c.pid)}`))
      throw new Error(`${c.name} exited before serving its certificate; see ${c.logFile}`);
    const pem = await fetch(`${c.url}/v1/cert.pem`, { signal: AbortSignal.timeout(5000) })
      .then((res) => (res.ok ? res.text() : ""))
      .catch(() => "");
    if (pem.includes("BEGIN CERTIFICATE")) return pem;
    await delay(200);
  }
  throw new Error(`no certificate from ${c.name} after ${String(timeoutMs)} ms; see ${c.logFile}`);
}

/** Bitnami's CRD file in the Go module cache (the kubeseal build fetched the module). */
function bitnamiCrd(): string {
  const modcache = execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim();
  return join(
    modcache,
    "github.com/bitnami-labs/sealed-secrets@v0.36.0/helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml",
  );
}

/**
 * Installs Bitnami's CRD and its service account (kube-system, bound to cluster-admin: bench
 * only), and writes the folder bound over /run: secrets/kubernetes.io/serviceaccount/{token,
 * ca.crt,namespace}. Returns that folder.
 */
export async function prepareBitnami(info: ControlPlaneInfo): Promise<string> {
  const bin = ensureBinaries();
  const admin = info.kubeconfigs.admin;
  await kubectl(bin, admin, ["apply", "--server-side", "-f", bitnamiCrd()]);
  await kubectl(bin, admin, [
    "wait",
    "--for=condition=Established",
    "crd/sealedsecrets.bitnami.com",
    "--timeout=60s",
  ]);
  await kubectl(bin, admin, ["create", "serviceaccount", BITNAMI_SA, "-n", "kube-system"]);
  await kubectl(bin, admin, [
    "create",
    "clusterrolebinding",
    "bench-sealed-secrets-controller",
    "--clusterrole=cluster-admin",
    `--serviceaccount=kube-system:${BITNAMI_SA}`,
  ]);
  const token = (
    await kubectl(bin, admin, ["create", "token", BITNAMI_SA, "-n", "kube-system", "--duration=2h"])
  ).trim();
  const runDir = join(info.dir, "bitnami-run");
  const sa = join(runDir, "secrets/kubernetes.io/serviceaccount");
  mkdirSync(sa, { recursive: true });
  writeFileSync(join(sa, "token"), token, { mode: 0o600 });
  writeFileSync(join(sa, "ca.crt"), info.caCert);
  writeFileSync(join(sa, "namespace"), "kube-system");
  return runDir;
}

/** Starts Bitnami's controller for one namespace, with extra flags (e.g. the client's QPS). */
export async function startBitnami(opts: {
  binary: string;
  info: ControlPlaneInfo;
  runDir: string;
  namespace: string;
  flags: readonly string[];
}): Promise<ControllerProcess> {
  // /var/run is a symlink to /run here; where it is not, bind over /var/run instead.
  const target = statSync("/var/run").isSymbolicLink() ? "/run" : "/var/run";
  const [port, metricsPort] = [await freePort(), await freePort()];
  const controller = [
    opts.binary,
    `--listen-addr=127.0.0.1:${String(port)}`,
    `--listen-metrics-addr=127.0.0.1:${String(metricsPort)}`,
    // Only the bench namespace (and its own, kube-system, where its keys live): the other runs'
    // SealedSecrets stay out of its queue.
    "--all-namespaces=false",
    `--additional-namespaces=${opts.namespace}`,
    ...opts.flags,
  ];
  const script = `mount --bind "$0" ${target} && exec "$@"`;
  const logFile = join(opts.info.dir, `bitnami-${opts.namespace}.log`);
  const proc = startProcess({
    name: `bitnami-controller (${opts.namespace})`,
    binary: "env",
    args: [
      "KUBERNETES_SERVICE_HOST=127.0.0.1",
      `KUBERNETES_SERVICE_PORT=${String(opts.info.apiServerPort)}`,
      "unshare",
      "-m",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      script,
      opts.runDir,
      ...controller,
    ],
    logFile,
  });
  return managed(proc, `http://127.0.0.1:${String(port)}`, logFile);
}

/** BENCH_CPU_PROF_DIR: where our controller writes V8 CPU profiles (main and unseal threads). */
function cpuProfileFlags(): string[] {
  const dir = process.env["BENCH_CPU_PROF_DIR"];
  return dir === undefined || dir === "" ? [] : ["--cpu-prof", `--cpu-prof-dir=${dir}`];
}

/** BENCH_UNSEAL_THREADS: our controller's --unseal-threads (its default, 2, otherwise). */
function unsealThreadFlags(): string[] {
  const threads = process.env["BENCH_UNSEAL_THREADS"];
  return threads === undefined || threads === "" ? [] : ["--unseal-threads", threads];
}

/** The newest mtime of a file under dir ending in ext (0 when there is none). */
function newest(dir: string, ext: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(ext))
    .reduce((max, f) => Math.max(max, statSync(join(dir, f)).mtimeMs), 0);
}

/**
 * Runs `npm run build` when dist/ is missing or older than a source file or the bundle script,
 * and returns the CLI's path. Call it once, before measuring: the other runs must not wait for
 * a build.
 */
export function ensureBuilt(): string {
  const bin = join(repoRoot, "dist/cli/bin.js");
  const built = existsSync(bin) ? newest(join(repoRoot, "dist"), ".js") : 0;
  const sources = Math.max(
    newest(join(repoRoot, "src"), ".ts"),
    newest(join(repoRoot, "scripts"), ".mjs"),
  );
  if (built > 0 && sources <= built) return bin;
  process.stdout.write("building dist/ (npm run build)\n");
  try {
    execFileSync("npm", ["run", "build", "--silent"], { cwd: repoRoot, stdio: "inherit" });
  } catch (err: unknown) {
    // Another change may be mid-edit; dist/ is bundled before tsc type-checks, so go on with it.
    if (!existsSync(bin)) throw err;
    process.stdout.write("npm run build reported errors; using dist/ as emitted\n");
  }
  return bin;
}

/** Starts `gitops-guard run --components secrets` as the gitops-guard-secrets service account. */
export async function startGuard(opts: {
  /** dist/cli/bin.js (ensureBuilt). */
  cli: string;
  info: ControlPlaneInfo;
  namespace: string;
  stateDir: string;
  /** More `gitops-guard run` flags. */
  args?: readonly string[];
}): Promise<ControllerProcess> {
  const port = await freePort();
  const logFile = join(opts.info.dir, `gitops-guard-${opts.namespace}.log`);
  const proc = startProcess({
    name: "gitops-guard run (secrets)",
    binary: "env",
    args: [
      // The kubeconfig is the service account's own token: nothing to impersonate.
      "GITOPS_GUARD_IMPERSONATE=false",
      process.execPath,
      ...cpuProfileFlags(),
      opts.cli,
      "run",
      "--kubeconfig",
      opts.info.kubeconfigs.secrets,
      "--components",
      "secrets",
      "--namespace",
      opts.namespace,
      "--ops-listen",
      `127.0.0.1:${String(port)}`,
      "--state-dir",
      opts.stateDir,
      "--identity",
      "bench",
      "--no-leader-election",
      "--log-level",
      "warn",
      ...unsealThreadFlags(),
      ...(opts.args ?? []),
    ],
    logFile,
  });
  return managed(proc, `http://127.0.0.1:${String(port)}`, logFile);
}
