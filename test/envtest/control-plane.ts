import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBinaries, type Binaries } from "./binaries.js";
import { bootstrap } from "./bootstrap.js";
import { kubeconfigYaml } from "./kubeconfig.js";
import {
  makeCa,
  makeClientCert,
  makeServiceAccountKeys,
  makeServingCert,
  type CertPair,
} from "./pki.js";
import { freePort, startProcess, waitFor, type ManagedProcess } from "./processes.js";
import { startWorkloads } from "./workloads.js";

export const IDENTITIES = ["admin", "reconciler", "secrets", "alice", "bob"] as const;
export type IdentityName = (typeof IDENTITIES)[number];

/** What tests need to reach the control plane; plain data, so vitest can hand it to workers. */
export interface ControlPlaneInfo {
  readonly dir: string;
  readonly binDir: string;
  readonly kubectl: string;
  readonly apiServerUrl: string;
  readonly apiServerPort: number;
  readonly etcdUrl: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly kubeconfigs: Readonly<Record<IdentityName, string>>;
  /** The fake Nodes Pods run on (test/envtest/workloads.ts); empty without workloads. */
  readonly nodes: readonly string[];
  readonly startMs: number;
}

export interface ControlPlane {
  readonly info: ControlPlaneInfo;
  stop(): Promise<void>;
}

export interface Pki {
  readonly ca: CertPair;
  readonly files: Readonly<
    Record<"caCert" | "caKey" | "servingCert" | "servingKey" | "saPub" | "saKey", string>
  >;
}

/** The control plane's CA, serving, and service-account keys, written under dir/pki. */
export function writePki(dir: string): Pki {
  const ca = makeCa("gitops-guard-envtest-ca");
  const serving = makeServingCert(ca, [
    "127.0.0.1",
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "10.0.0.1",
  ]);
  const sa = makeServiceAccountKeys();
  const pkiDir = join(dir, "pki");
  mkdirSync(pkiDir, { recursive: true });
  const put = (name: string, pem: string): string => {
    const path = join(pkiDir, name);
    writeFileSync(path, pem, { mode: 0o600 });
    return path;
  };
  return {
    ca,
    files: {
      caCert: put("ca.crt", ca.cert),
      caKey: put("ca.key", ca.key),
      servingCert: put("apiserver.crt", serving.cert),
      servingKey: put("apiserver.key", serving.key),
      saPub: put("sa.pub", sa.publicPem),
      saKey: put("sa.key", sa.privatePem),
    },
  };
}

export async function startEtcd(
  bin: Binaries,
  dir: string,
): Promise<{ proc: ManagedProcess; url: string }> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const logFile = join(dir, "etcd.log");
  const proc = startProcess({
    name: "etcd",
    binary: bin.etcd,
    logFile,
    args: [
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      "--unsafe-no-fsync",
      "--log-level=warn",
    ],
  });
  await waitFor("etcd /health", async () => (await fetch(`${url}/health`)).ok, {
    timeoutMs: 30_000,
    process: proc,
    logFile,
  });
  return { proc, url };
}

/** Arguments of a kube-apiserver on loopback; exported so tests can run a second one. */
export function apiServerArgs(files: Pki["files"], etcdUrl: string, port: number): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${port}`,
    `--tls-cert-file=${files.servingCert}`,
    `--tls-private-key-file=${files.servingKey}`,
    `--client-ca-file=${files.caCert}`,
    `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
    `--service-account-key-file=${files.saPub}`,
    `--service-account-signing-key-file=${files.saKey}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    "--authorization-mode=RBAC",
    "--allow-privileged=true",
    "--profiling=false",
    "--enable-priority-and-fairness=false",
    "--v=0",
  ];
}

/** GET path on the API server as the given client certificate; resolves status and body. */
export function apiGet(opts: {
  url: string;
  path: string;
  ca: string;
  client: CertPair;
}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${opts.url}${opts.path}`,
      { ca: opts.ca, cert: opts.client.cert, key: opts.client.key, timeout: 5000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

export async function startApiServer(opts: {
  bin: Binaries;
  dir: string;
  files: Pki["files"];
  etcdUrl: string;
  port: number;
  admin: CertPair;
  ca: string;
  name?: string;
  /** More kube-apiserver flags (an audit webhook, for example); appended after the defaults. */
  extraArgs?: readonly string[];
}): Promise<ManagedProcess> {
  const name = opts.name ?? "kube-apiserver";
  const logFile = join(opts.dir, `${name}.log`);
  const proc = startProcess({
    name,
    binary: opts.bin.kubeApiserver,
    logFile,
    args: [...apiServerArgs(opts.files, opts.etcdUrl, opts.port), ...(opts.extraArgs ?? [])],
  });
  const url = `https://127.0.0.1:${opts.port}`;
  await waitFor(
    `${name} /readyz`,
    async () =>
      (await apiGet({ url, path: "/readyz", ca: opts.ca, client: opts.admin })).status === 200,
    {
      timeoutMs: 90_000,
      process: proc,
      logFile,
    },
  );
  return proc;
}

// Only what gitops-guard's tests rely on, to spare the two cores: namespaces and garbage
// collection clean up, service accounts and tokens work, the aggregated edit/view roles fill,
// workloads get ReplicaSets and Pods, and the fake Nodes lose the not-ready taint once Ready.
const CONTROLLERS = [
  "namespace-controller",
  "garbage-collector-controller",
  "serviceaccount-controller",
  "serviceaccount-token-controller",
  "clusterrole-aggregation-controller",
  "root-ca-certificate-publisher-controller",
  "deployment-controller",
  "replicaset-controller",
  "statefulset-controller",
  "daemonset-controller",
  "job-controller",
  "cronjob-controller",
  "node-lifecycle-controller",
];

function startControllerManager(bin: Binaries, dir: string, files: Pki["files"]): ManagedProcess {
  return startProcess({
    name: "kube-controller-manager",
    binary: bin.kubeControllerManager,
    logFile: join(dir, "kube-controller-manager.log"),
    args: [
      `--kubeconfig=${join(dir, "controller-manager.kubeconfig")}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      "--secure-port=0",
      `--controllers=${CONTROLLERS.join(",")}`,
      `--service-account-private-key-file=${files.saKey}`,
      `--root-ca-file=${files.caCert}`,
      "--use-service-account-credentials=true",
      "--concurrent-gc-syncs=5",
      // Above the default 20/30 per controller, so that a thousand Pods are created in seconds.
      "--kube-api-qps=200",
      "--kube-api-burst=400",
      "--v=0",
    ],
  });
}

/**
 * etcd and a kube-apiserver on loopback, with fresh PKI under dir and an admin client certificate
 * (system:masters) named adminUser; both processes are pushed onto procs, to be stopped by the
 * caller on every path.
 */
export async function startEtcdAndApiServer(
  bin: Binaries,
  dir: string,
  procs: ManagedProcess[],
  adminUser: string,
): Promise<{ pki: Pki; etcd: { url: string }; port: number; admin: CertPair }> {
  const pki = writePki(dir);
  const etcd = await startEtcd(bin, dir);
  procs.push(etcd.proc);
  const port = await freePort();
  const admin = makeClientCert(pki.ca, { user: adminUser, groups: ["system:masters"] });
  procs.push(
    await startApiServer({
      bin,
      dir,
      files: pki.files,
      etcdUrl: etcd.url,
      port,
      admin,
      ca: pki.ca.cert,
    }),
  );
  return { pki, etcd, port, admin };
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager on loopback and bootstraps identities;
 * with workloads, also kube-scheduler and kwok with fake Nodes, so that Pods run.
 */
export async function startControlPlane(
  opts: { keepDir?: boolean; workloads?: boolean } = {},
): Promise<ControlPlane> {
  const started = performance.now();
  const bin = ensureBinaries();
  const dir = mkdtempSync(join(tmpdir(), "gitops-guard-envtest-"));
  const procs: ManagedProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const p of procs.reverse()) await p.stop();
    if (opts.keepDir !== true) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { pki, etcd, port, admin } = await startEtcdAndApiServer(
      bin,
      dir,
      procs,
      "envtest-admin",
    );
    const apiServerUrl = `https://127.0.0.1:${port}`;
    const kcm = makeClientCert(pki.ca, { user: "system:kube-controller-manager", groups: [] });
    writeFileSync(
      join(dir, "controller-manager.kubeconfig"),
      kubeconfigYaml({ name: "kcm", server: apiServerUrl, caCert: pki.ca.cert, clientCert: kcm }),
    );
    procs.push(startControllerManager(bin, dir, pki.files));
    const kubeconfigs = await bootstrap({ bin, dir, apiServerUrl, ca: pki.ca, admin });
    const workloads = { bin, dir, apiServerUrl, ca: pki.ca, admin: kubeconfigs.admin, procs };
    const nodes = opts.workloads === true ? await startWorkloads(workloads) : [];
    const info: ControlPlaneInfo = {
      dir,
      binDir: bin.dir,
      kubectl: bin.kubectl,
      apiServerUrl,
      apiServerPort: port,
      etcdUrl: etcd.url,
      caCert: pki.ca.cert,
      caKey: pki.ca.key,
      kubeconfigs,
      nodes,
      startMs: Math.round(performance.now() - started),
    };
    return { info, stop };
  } catch (err: unknown) {
    await stop();
    throw err;
  }
}
