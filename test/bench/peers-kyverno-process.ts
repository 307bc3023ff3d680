// Kyverno v1.19.1's admission controller for peers-kyverno.bench.ts: built once from the Go
// module proxy (test/bench/kyverno/go.mod), started out of cluster against the test API server
// as its DEVELOPMENT.md "Debugging local code" describes, with its CRDs and the Git-only
// ClusterPolicy (test/bench/kyverno/git-only-policy.yaml) installed.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { kubectl } from "../envtest/bootstrap.js";
import { ensureBinaries } from "../envtest/binaries.js";
import type { ControlPlaneInfo } from "../envtest/control-plane.js";
import { freePort, startProcess, waitFor } from "../envtest/processes.js";
import { managed, type ControllerProcess } from "./bitnami-controller.js";

export const KYVERNO_VERSION = "v1.19.1";
export const KYVERNO_NS = "kyverno";
const here = fileURLToPath(new URL("./kyverno/", import.meta.url));
const CA_SECRET = "kyverno-svc.kyverno.svc.kyverno-tls-ca";
const TLS_SECRET = "kyverno-svc.kyverno.svc.kyverno-tls-pair";

/** Kyverno's own flags in this benchmark (recorded next to the figures). */
const KYVERNO_DEFAULT_FLAGS = [
  `--backgroundServiceAccountName=system:serviceaccount:${KYVERNO_NS}:kyverno-background-controller`,
  `--reportsServiceAccountName=system:serviceaccount:${KYVERNO_NS}:kyverno-reports-controller`,
  `--caSecretName=${CA_SECRET}`,
  `--tlsSecretName=${TLS_SECRET}`,
  // As the chart's defaults (features.omitEvents); out of cluster the flag's own default is to
  // emit every event, an API write per admitted request.
  "--omitEvents=PolicyApplied,PolicySkipped",
  // The chart logs at 2; 1 logs less, in Kyverno's favour.
  "--v=1",
];

/** PEERS_KYVERNO_FLAGS: more Kyverno flags for a tuned run (space-separated), appended. */
export const KYVERNO_FLAGS: readonly string[] = [
  ...KYVERNO_DEFAULT_FLAGS,
  ...(process.env["PEERS_KYVERNO_FLAGS"] ?? "").split(" ").filter((f) => f !== ""),
];

function moduleDir(): string {
  const modcache = execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim();
  return join(modcache, `github.com/kyverno/kyverno@${KYVERNO_VERSION}`);
}

/** Builds cmd/kyverno once (about 9 minutes on two cores) and returns the binary's path. */
export function ensureKyverno(log: (line: string) => void): string {
  const dir = join(homedir(), ".cache/gitops-guard/kyverno", KYVERNO_VERSION);
  const bin = join(dir, "kyverno");
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  log(`building Kyverno ${KYVERNO_VERSION} (cmd/kyverno) into ${dir}, first run only`);
  execFileSync(
    "go",
    [
      "build",
      "-trimpath",
      "-ldflags",
      "-s -w",
      "-o",
      `${bin}.tmp`,
      "github.com/kyverno/kyverno/cmd/kyverno",
    ],
    {
      cwd: here,
      stdio: "inherit",
      env: { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=mod" },
    },
  );
  renameSync(`${bin}.tmp`, bin);
  return bin;
}

/** Kyverno's CRDs, its namespace, and the Git-only ClusterPolicy. */
export async function installKyverno(info: ControlPlaneInfo): Promise<void> {
  const bin = ensureBinaries();
  const admin = info.kubeconfigs.admin;
  const crds = join(moduleDir(), "config/crds");
  await kubectl(bin, admin, ["apply", "--server-side", "-R", "-f", crds]);
  // Retried: `kubectl wait` fails outright on a CRD whose status has no conditions yet.
  await waitFor(
    "Kyverno's CRDs to be established",
    async () => {
      await kubectl(bin, admin, [
        "wait",
        "--for=condition=Established",
        "crd",
        "--all",
        "--timeout=20s",
      ]);
      return true;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  await kubectl(bin, admin, ["create", "namespace", KYVERNO_NS]);
  await kubectl(bin, admin, ["apply", "-f", join(here, "git-only-policy.yaml")]);
}

export interface KyvernoProcess extends ControllerProcess {
  /** Where the webhook listens (loopback). */
  readonly port: number;
  /** Kyverno's own CA (from its CA Secret), to call the webhook directly. */
  readonly ca: string;
}

/** Reads a key of a Secret through kubectl; empty while the Secret does not exist. */
async function secretKey(info: ControlPlaneInfo, name: string, key: string): Promise<string> {
  const escaped = key.replaceAll(".", "\\.");
  const out = await kubectl(ensureBinaries(), info.kubeconfigs.admin, [
    "get",
    "secret",
    name,
    "-n",
    KYVERNO_NS,
    "-o",
    `jsonpath={.data.${escaped}}`,
  ]).catch(() => "");
  return Buffer.from(out.trim(), "base64").toString("utf8");
}

/** Starts Kyverno as the admin identity and waits until its policy webhook is registered. */
export async function startKyverno(opts: {
  binary: string;
  info: ControlPlaneInfo;
}): Promise<KyvernoProcess> {
  const [port, metricsPort, profilePort] = [await freePort(), await freePort(), await freePort()];
  const logFile = join(opts.info.dir, "kyverno.log");
  const proc = startProcess({
    name: "kyverno",
    binary: "env",
    args: [
      `KYVERNO_NAMESPACE=${KYVERNO_NS}`,
      "KYVERNO_SERVICEACCOUNT_NAME=kyverno-admission-controller",
      "KYVERNO_DEPLOYMENT=dummy",
      "KYVERNO_POD_NAME=dummy",
      "INIT_CONFIG=kyverno",
      "METRICS_CONFIG=kyverno-metrics",
      opts.binary,
      `--kubeconfig=${opts.info.kubeconfigs.admin}`,
      `--serverIP=127.0.0.1:${String(port)}`,
      `--webhookServerPort=${String(port)}`,
      "--webhookServerHost=127.0.0.1",
      `--metricsPort=${String(metricsPort)}`,
      `--profilePort=${String(profilePort)}`,
      ...KYVERNO_FLAGS,
    ],
    logFile,
  });
  const controller = await managed(proc, `https://127.0.0.1:${String(port)}`, logFile);
  await waitFor(
    "Kyverno's validating webhook configuration",
    async () => {
      const names = await kubectl(ensureBinaries(), opts.info.kubeconfigs.admin, [
        "get",
        "validatingwebhookconfigurations",
        "-o",
        "name",
      ]);
      return names.includes("kyverno-resource-validating-webhook-cfg");
    },
    { timeoutMs: 180_000, intervalMs: 500, process: proc, logFile },
  );
  // The webhook's serving pair appears after the CA; until then Kyverno's TLS handshakes fail.
  await waitFor(
    "Kyverno's serving certificate",
    async () => (await secretKey(opts.info, TLS_SECRET, "tls.crt")).includes("BEGIN CERTIFICATE"),
    { timeoutMs: 60_000, intervalMs: 500, process: proc, logFile },
  );
  const ca = await secretKey(opts.info, CA_SECRET, "tls.crt");
  if (!ca.includes("BEGIN CERTIFICATE")) throw new Error(`no Kyverno CA; see ${logFile}`);
  return { ...controller, port, ca };
}

export function kyvernoLogTail(p: KyvernoProcess, lines = 20): string {
  return readFileSync(p.logFile, "utf8").split("\n").slice(-lines).join("\n");
}
