// `npm run demo`: gitops-guard on a real local control plane (kube-apiserver, etcd,
// kube-controller-manager, kube-scheduler and kwok's fake Nodes, built from source by
// test/envtest), narrated step by step against the
// example repository in examples/. `npm run demo -- --keep` leaves everything running.
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { loadConfig } from "../../src/config.js";
import { journalReaderKubeconfig } from "./journal-reader.js";
import { errorMessage } from "../../src/errors.js";
import { createKubeClient } from "../../src/kube/client.js";
import { run } from "../../src/main.js";
import { startControlPlane } from "../envtest/control-plane.js";
import { freePort } from "../envtest/processes.js";
import { startAlertSink } from "./alert-sink.js";
import { cli } from "./cli.js";
import { narrator, until } from "./narrate.js";
import { exampleRepo } from "./repo.js";
import {
  aliceDenied,
  bobBreaksGlass,
  expiresAndHeals,
  firstSync,
  journaledAndAlerted,
} from "./steps-guard.js";
import { demoAgeKey, sealCommitMaterialise, sopsDecrypted } from "./steps-secrets.js";
import { chartFromGit } from "./steps-chart.js";
import { badRolloutReverted, podsRun } from "./steps-rollout.js";
import { ensureGoTool } from "../tools/go-tools.js";

const STEPS = 15;
const keep = process.argv.includes("--keep");
const out = narrator(STEPS, (text) => process.stdout.write(text));
const started = performance.now();

out.step(
  "Starting a real control plane on loopback (the first run builds it from source: minutes)",
);
const cp = await startControlPlane({ workloads: true });
const stateDir = mkdtempSync(join(tmpdir(), "gg-demo-state-"));
const repo = exampleRepo();
const sink = await startAlertSink();
const stop = new AbortController();
let failed = false;
try {
  out.say(`kube-apiserver ready at ${cp.info.apiServerUrl} in ${String(cp.info.startMs)} ms`);
  out.step("Starting gitops-guard: admission, secrets, reconciler and auditor");
  const config = loadConfig({
    flags: {
      kubeconfig: cp.info.kubeconfigs.admin,
      opsListen: "127.0.0.1:0",
      webhookListen: `127.0.0.1:${String(await freePort())}`,
      stateDir,
      identity: "demo",
      // The demo's repositories live on this machine: unsafe in a cluster, fine here.
      allowFileUrls: true,
      // git from the system, helm v4 as the tests build it (the image has both in /usr/local/bin).
      toolsPath: `${dirname(ensureGoTool("helm"))}:/usr/local/bin:/usr/bin:/bin`,
      logLevel: "warn",
    },
    env: {},
    hostname: hostname(),
  });
  let opsUrl = "";
  const running = run(config, { signal: stop.signal, onListening: (url) => (opsUrl = url) });
  running.catch((err: unknown) => {
    process.stdout.write(`gitops-guard stopped: ${errorMessage(err)}\n`);
  });
  const admin = createKubeClient({ kubeconfig: cp.info.kubeconfigs.admin });
  await until("gitops-guard to be ready", async () =>
    opsUrl !== "" && (await fetch(`${opsUrl}/readyz`)).ok ? true : undefined,
  );
  out.say(`each component acts as its own service account; ops server ${opsUrl}`);

  const reader = await journalReaderKubeconfig(admin, cp.info);
  out.say(`the journal API answers a token RBAC lets read it: ${reader} (security-team)`);
  const guard = { info: cp.info, admin, opsUrl, reader, repoDir: repo.dir, sink, out };
  await firstSync(guard, demoAgeKey());
  await podsRun({ admin, repo, out });
  await sopsDecrypted({ admin, opsUrl, repo, out });
  await aliceDenied(guard);
  await bobBreaksGlass(guard);
  await journaledAndAlerted(guard);
  await expiresAndHeals(guard);
  await sealCommitMaterialise({ admin, opsUrl, repo, out });
  await chartFromGit({ admin, repoDir: repo.dir, out });
  await badRolloutReverted({ admin, repo, out }, repo.dir);

  out.step("The whole journal, and audit verify recomputing its hash chain");
  const journal = await cli(["audit", "list", "--server", opsUrl, "--kubeconfig", reader]);
  out.say(`$ gitops-guard audit list --server ${opsUrl} --kubeconfig ${reader}\n${journal}`);
  const verified = await cli(["audit", "verify", "--server", opsUrl, "--kubeconfig", reader]);
  out.say(`$ gitops-guard audit verify --server ${opsUrl} --kubeconfig ${reader}\n${verified}`);
  out.result("audit verify", verified.trim().split("\n")[0] ?? "");

  out.step("The status page");
  const page = await until("the status page", async () => {
    const res = await fetch(`${opsUrl}/status`);
    return res.ok ? res : undefined;
  });
  out.say(
    `${opsUrl}/status answers ${String(page.status)} (${page.headers.get("content-type") ?? ""})`,
  );
  out.say(`also: ${opsUrl}/metrics, ${opsUrl}/api/v1/journal`);
  out.result("status page", `${opsUrl}/status`);

  out.step("Summary");
  out.say(out.summary());
  out.say(
    `alerts delivered: ${String(sink.received.length)}, refused for a bad signature: ${String(sink.rejected)}`,
  );
  out.say(`demo finished in ${String(Math.round((performance.now() - started) / 1000))} s`);
  if (keep) {
    out.say(
      [
        "--keep: everything stays up until Ctrl-C.",
        `  export KUBECONFIG=${cp.info.kubeconfigs.admin}`,
        `  alice: ${cp.info.kubeconfigs.alice}`,
        `  bob:   ${cp.info.kubeconfigs.bob}`,
        `  example repository: ${repo.dir}`,
        `  status page: ${opsUrl}/status`,
      ].join("\n"),
    );
    await new Promise<void>((resolve) => {
      process.once("SIGINT", () => {
        resolve();
      });
      process.once("SIGTERM", () => {
        resolve();
      });
    });
  }
  stop.abort();
  await running;
} catch (err: unknown) {
  failed = true;
  process.stdout.write(`\ndemo failed: ${errorMessage(err)}\n`);
} finally {
  stop.abort();
  await sink.close();
  await cp.stop();
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(repo.dir, { recursive: true, force: true });
  process.stdout.write(
    failed
      ? "cleaned up after the failure\n"
      : "cleaned up: control plane stopped, temporary files removed\n",
  );
}
process.exitCode = failed ? 1 : 0;
