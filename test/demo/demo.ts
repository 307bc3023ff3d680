// `npm run demo`: gitops-guard on a real local control plane (kube-apiserver, etcd and
// kube-controller-manager built from source by test/envtest), narrated step by step: the
// service syncs an example Git repository, refuses alice's out-of-band edit, admits bob's
// break-glass, records it in the journal, and verifies the journal's chain.
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/run-cli.js";
import { loadConfig } from "../../src/config.js";
import { errorMessage } from "../../src/errors.js";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { run } from "../../src/main.js";
import { startControlPlane, type ControlPlaneInfo } from "../envtest/control-plane.js";
import { freePort } from "../envtest/processes.js";
import { exampleRepo } from "./repo.js";

const say = (text: string): void => {
  process.stdout.write(`${text}\n`);
};
const step = (n: number, text: string): void => {
  say(`\n[${String(n)}/7] ${text}`);
};

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 60_000,
): Promise<T> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`demo: timed out waiting for ${what}`);
}

const POLICY: KubeObject = {
  apiVersion: "gitops-guard.io/v1alpha1",
  kind: "GuardPolicy",
  metadata: { name: "default" },
  spec: {
    mode: "Enforce",
    match: {
      resources: [
        { apiGroups: ["apps"], kinds: ["Deployment"] },
        { apiGroups: [""], kinds: ["ConfigMap"] },
      ],
    },
    reconcilers: { serviceAccounts: ["gitops-guard-system/gitops-guard-reconciler"] },
    breakGlass: {
      groups: ["incident-responders"],
      maxDuration: "4h",
      reasonPattern: "^INC-[0-9]+",
    },
  },
};

const settings = (data: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "settings", namespace: "shop" },
  data,
});

async function cli(args: string[]): Promise<string> {
  let out = "";
  const code = await runCli(["node", "gitops-guard", ...args], {
    run: () => Promise.resolve(),
    env: {},
    hostname: hostname(),
    output: { writeOut: (t) => (out += t), writeErr: (t) => (out += t) },
  });
  if (code !== 0) throw new Error(`gitops-guard ${args.join(" ")} failed: ${out}`);
  return out;
}

async function syncAndGuard(
  info: ControlPlaneInfo,
  admin: KubeClient,
  repo: string,
): Promise<void> {
  step(
    2,
    "A GuardPolicy guards Deployments and ConfigMaps; a GitSync points at the example repository",
  );
  await admin.apply(POLICY);
  await admin.apply({
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GitSync",
    metadata: { name: "shop", namespace: "gitops-guard-system" },
    spec: {
      url: `file://${repo}`,
      ref: { branch: "main" },
      path: "shop",
      interval: "1m",
      prune: true,
      selfHeal: true,
    },
  });
  const ready = await until("the first sync", async () => {
    const gs = await admin.get({
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GitSync",
      namespace: "gitops-guard-system",
      name: "shop",
    });
    const status = gs?.["status"] as
      | {
          lastAppliedRevision?: string;
          inventory?: unknown[];
          conditions?: { type: string; status: string }[];
        }
      | undefined;
    return status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true
      ? status
      : undefined;
  });
  say(
    `   synced ${ready.lastAppliedRevision ?? "?"}: ${String(ready.inventory?.length ?? 0)} objects applied by the reconciler`,
  );
  step(3, "alice (group developers) edits the ConfigMap out of band, as kubectl edit would");
  const alice = createKubeClient({ kubeconfig: info.kubeconfigs.alice });
  await until("the webhook to guard the ConfigMap", async () => {
    try {
      await alice.apply(settings({ checkout: "disabled" }), {
        fieldManager: "kubectl-edit",
        dryRun: true,
      });
      return undefined;
    } catch (err: unknown) {
      return errorMessage(err);
    }
  }).then((message) => {
    say(
      `   denied:\n${message
        .split(/(?<=\.) /)
        .map((line) => `     ${line}`)
        .join("\n")}`,
    );
  });
}

async function breakGlass(info: ControlPlaneInfo, opsUrl: string): Promise<void> {
  step(4, "bob (incident-responders) breaks glass for 10 minutes with a ticket id");
  say(
    `   ${(await cli(["break-glass", "configmap/settings", "-n", "shop", "--reason", "INC-4711", "--for", "10m", "--kubeconfig", info.kubeconfigs.bob])).trim()}`,
  );
  const bob = createKubeClient({ kubeconfig: info.kubeconfigs.bob });
  await bob.apply(settings({ checkout: "disabled" }), {
    fieldManager: "kubectl-edit",
    force: true,
  });
  say(
    "   bob's edit is admitted: checkout=disabled while the incident lasts; self-heal waits for the expiry",
  );
  step(5, "The auditor has recorded it in the hash-chained journal");
  const listed = await until("the journal record", async () => {
    const out = await cli(["audit", "list", "--server", opsUrl]);
    return out.includes("bob") ? out : undefined;
  });
  say(
    listed
      .trimEnd()
      .split("\n")
      .map((l) => `   ${l}`)
      .join("\n"),
  );
  step(6, "audit verify recomputes the chain");
  say(`   ${(await cli(["audit", "verify", "--server", opsUrl])).trim()}`);
}

const started = performance.now();
say(
  "[1/7] Starting a real control plane on loopback (the first run builds it from source: minutes)",
);
const cp = await startControlPlane();
const stateDir = mkdtempSync(join(tmpdir(), "gg-demo-state-"));
const repo = exampleRepo();
const stop = new AbortController();
try {
  say(`   kube-apiserver ready at ${cp.info.apiServerUrl} in ${String(cp.info.startMs)} ms`);
  const config = loadConfig({
    flags: {
      kubeconfig: cp.info.kubeconfigs.admin,
      opsListen: "127.0.0.1:0",
      webhookListen: `127.0.0.1:${String(await freePort())}`,
      stateDir,
      identity: "demo",
      logLevel: "warn",
    },
    env: {},
    hostname: hostname(),
  });
  let opsUrl = "";
  const running = run(config, { signal: stop.signal, onListening: (url) => (opsUrl = url) });
  running.catch((err: unknown) => {
    say(`gitops-guard stopped: ${errorMessage(err)}`);
  });
  const admin = createKubeClient({ kubeconfig: cp.info.kubeconfigs.admin });
  await until("gitops-guard to be ready", async () =>
    opsUrl !== "" && (await fetch(`${opsUrl}/readyz`)).ok ? true : undefined,
  );
  say(
    `   gitops-guard runs all four components as their own service accounts; ops server ${opsUrl}`,
  );
  await syncAndGuard(cp.info, admin, repo);
  await breakGlass(cp.info, opsUrl);
  step(7, "Done");
  say(`   status and metrics: ${opsUrl}/metrics, journal: ${opsUrl}/api/v1/journal`);
  say(`   demo finished in ${String(Math.round((performance.now() - started) / 1000))} s`);
  stop.abort();
  await running;
} finally {
  stop.abort();
  await cp.stop();
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(repo, { recursive: true, force: true });
}
