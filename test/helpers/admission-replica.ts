// Admission webhook replicas as processes of their own, sharing nothing but the API server (their
// TLS Secret lives there): what several webhook pods behind one Service are.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";
import { applyWebhookRbac, SYSTEM_NS, WEBHOOK_USER } from "../admission/harness.js";
import { clientAs, envtest, eventually } from "../envtest/context.js";
import { freePort } from "../envtest/processes.js";
import type { ReplicaSpec } from "./admission-replica-main.js";
import { tcpBalancer, type TcpBalancer } from "./tcp-balancer.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = "test/helpers/admission-replica-main.ts";
const VWC = {
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "ValidatingWebhookConfiguration",
};

export interface AdmissionReplica {
  readonly identity: string;
  /** Its log lines (pino JSON), parsed. */
  logs(): Record<string, unknown>[];
}

/** Starts a replica and waits until it is ready; SIGTERMed (then SIGKILLed) when the test ends. */
export async function startReplica(spec: ReplicaSpec): Promise<AdmissionReplica> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, JSON.stringify(spec)], {
    cwd: ROOT,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/tmp" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  onTestFinished(async (ctx) => {
    if (ctx.task.result?.state === "fail")
      process.stdout.write(`--- ${spec.identity}\n${out.slice(-4000)}\n--- stderr\n${err}\n`);
    if (done) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  });
  await eventually(
    `admission replica ${spec.identity} to be ready`,
    () => {
      if (done) throw new Error(`admission replica ${spec.identity} exited:\n${err}`);
      return err.includes("ready\n");
    },
    120_000,
  );
  return {
    identity: spec.identity,
    logs: () =>
      out
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

export interface ReplicaSet {
  readonly replicas: readonly AdmissionReplica[];
  readonly balancer: TcpBalancer;
}

/**
 * count webhook replicas for the test namespace ns, each a process with its own port, behind one
 * balancer whose URL they register (what the test harness's in-process webhook is, several
 * times over); the configuration and the shared TLS Secret go when the test ends.
 */
export async function replicasBehindBalancer(ns: string, count: number): Promise<ReplicaSet> {
  const admin = clientAs("admin");
  await applyWebhookRbac(admin);
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const balancer = await tcpBalancer(ports);
  const name = `gg-${ns}`;
  onTestFinished(async () => {
    await admin.delete({ ...VWC, name });
    await admin.delete({
      apiVersion: "v1",
      kind: "Secret",
      namespace: SYSTEM_NS,
      name: `${name}-tls`,
    });
  });
  const replicas = await Promise.all(
    ports.map((port, i) =>
      startReplica({
        kubeconfig: envtest().kubeconfigs.admin,
        systemNamespace: SYSTEM_NS,
        identity: `webhook-${String(i)}-${ns}`,
        listen: `127.0.0.1:${String(port)}`,
        webhookUser: WEBHOOK_USER,
        options: {
          webhookName: name,
          namespaces: [ns],
          policySelector: `gitops-guard.io/test=${ns}`,
          tls: { mode: "self-managed", secretName: `${name}-tls` },
          advertisedUrl: `https://127.0.0.1:${String(balancer.port)}`,
        },
      }),
    ),
  );
  return { replicas, balancer };
}
