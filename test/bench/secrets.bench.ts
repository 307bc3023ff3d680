// Secrets controller: time for N SealedSecrets (2 values each, RSA-4096) created at once to
// become Secrets on a real API server (its own envtest control plane, sharing the two cores),
// and the controller's unseal rate against raw RSA-4096 OAEP decrypt measured in the same run.
// N: BENCH_SECRETS_N (default 200; the goal scale is 1000); BENCH_SECRETS_WORKERS (8);
// BENCH_SECRETS_SUCCESS_EVENTS=false drops the Normal Event per Secret written.
import express from "express";
import { loadConfig } from "../../src/config.js";
import { parseCertificate } from "../../src/crypto/sealing/certificate.js";
import { startServer } from "../../src/http/server.js";
import { createKubeClient } from "../../src/kube/client.js";
import { createServices, runComponents } from "../../src/main.js";
import { createSecretsComponent } from "../../src/secrets/component.js";
import { startControlPlane } from "../envtest/control-plane.js";
import {
  activeGuardKey,
  countOwnedSecrets,
  createAll,
  sealedBenchDocs,
  unsealRates,
} from "./secrets-bench-helpers.js";
import { fmt, ratioLine } from "./stats.js";

const N = Number(process.env["BENCH_SECRETS_N"] ?? "200");
const WORKERS = Number(process.env["BENCH_SECRETS_WORKERS"] ?? "8");
const SUCCESS_EVENTS = process.env["BENCH_SECRETS_SUCCESS_EVENTS"] !== "false";
const NS = "bench-secrets";

async function main(): Promise<void> {
  const cp = await startControlPlane();
  const abort = new AbortController();
  try {
    const admin = createKubeClient({ kubeconfig: cp.info.kubeconfigs.admin });
    await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    const config = loadConfig({
      flags: {
        kubeconfig: cp.info.kubeconfigs.secrets,
        namespace: NS,
        identity: "bench",
        opsListen: "127.0.0.1:0",
        leaderElection: false,
      },
      env: {},
      hostname: "bench",
    });
    const services = createServices(config, {});
    const logger = services.logger.child({ component: "secrets" });
    logger.level = "warn";
    const component = createSecretsComponent(
      { ...services, config, logger },
      { watchNamespace: NS, workers: WORKERS, successEvents: SUCCESS_EVENTS },
    );
    const app = express();
    app.use(component.routes());
    const server = await startServer({ app, listen: "127.0.0.1:0", logger });
    const running = runComponents(config, services, [component], { signal: abort.signal });
    const keyStart = performance.now();
    while (!Object.values(component.readiness()).every(Boolean))
      await new Promise((r) => setTimeout(r, 50));
    process.stdout.write(
      `controller ready (RSA-4096 key generated) in ${fmt(performance.now() - keyStart, 0)} ms\n`,
    );
    const cert = parseCertificate(await (await fetch(`${server.url}/v1/cert.pem`)).text(), "cert");
    const docs = sealedBenchDocs({ n: N, namespace: NS, publicKey: cert.publicKey });
    const secrets = await countOwnedSecrets(admin, NS, N);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await createAll(docs, admin);
    const created = performance.now() - t0;
    await secrets.allThere(30 * 60_000);
    const total = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await secrets.stop();

    const { unseal: unsealRate, raw } = unsealRates(docs, await activeGuardKey(admin, NS));
    const cpuMs = (cpu.user + cpu.system) / 1000;

    process.stdout.write(
      `${N} SealedSecrets (2 values each) created in ${fmt(created, 0)} ms; all Secrets present after ${fmt(total, 0)} ms\n`,
    );
    process.stdout.write(
      `${ratioLine("SealedSecrets -> Secrets per second", N / (total / 1000), 1000 / 20, "/s")}\n`,
    );
    process.stdout.write(
      `${ratioLine("unseal values/s (controller path, 1 core)", unsealRate, raw, "/s")}\n`,
    );
    process.stdout.write(
      `${ratioLine("bench process CPU per SealedSecret (incl. client)", cpuMs / N, (2 * 1000) / raw, "ms")}\n`,
    );
    process.stdout.write(
      "(baseline of the first line: the issue's goal, 1,000 in 20 s; of the last: raw RSA cost of 2 values)\n",
    );
    const reconciles = (await services.metrics.text())
      .split("\n")
      .filter((l) => l.startsWith('gitops_guard_reconcile_total{controller="sealedsecrets"'));
    process.stdout.write(`${reconciles.join("\n")}\n`);
    await server.close();
    abort.abort();
    await running;
  } finally {
    abort.abort();
    await cp.stop();
  }
}

await main();
