// Secrets controller: time for N SealedSecrets (2 values each, RSA-4096) created at once to
// become Secrets on a real API server (its own envtest control plane, sharing the two cores),
// and the controller's unseal rate against raw RSA-4096 OAEP decrypt measured in the same run.
// N: BENCH_SECRETS_N (default 200; the goal scale is 1000); BENCH_SECRETS_WORKERS (8);
// BENCH_SECRETS_SUCCESS_EVENTS=false drops the Normal Event per Secret written.
import { constants, privateDecrypt, publicEncrypt, randomBytes } from "node:crypto";
import express from "express";
import { loadConfig } from "../../src/config.js";
import { parseCertificate } from "../../src/crypto/sealing/certificate.js";
import { keysFromDocuments } from "../../src/crypto/sealing/key-secret.js";
import { Keyring } from "../../src/crypto/sealing/keyring.js";
import { readSecret, sealSecret } from "../../src/crypto/sealing/seal.js";
import { readSealedSecret } from "../../src/crypto/sealing/sealed-secret.js";
import { unsealSealedSecret } from "../../src/crypto/sealing/unseal.js";
import { startServer } from "../../src/http/server.js";
import { createKubeClient } from "../../src/kube/client.js";
import { Informer } from "../../src/kube/informer.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { createServices, runComponents } from "../../src/main.js";
import { realClock } from "../../src/runtime/clock.js";
import { createSecretsComponent } from "../../src/secrets/component.js";
import { startControlPlane } from "../envtest/control-plane.js";
import { fmt, ratioLine } from "./stats.js";

const N = Number(process.env["BENCH_SECRETS_N"] ?? "200");
const WORKERS = Number(process.env["BENCH_SECRETS_WORKERS"] ?? "8");
const SUCCESS_EVENTS = process.env["BENCH_SECRETS_SUCCESS_EVENTS"] !== "false";
const NS = "bench-secrets";

function rawDecryptRate(
  publicKeyPem: string,
  privateKey: Parameters<typeof privateDecrypt>[0],
): number {
  const blocks = Array.from({ length: 100 }, () =>
    publicEncrypt(
      { key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      randomBytes(32),
    ),
  );
  const start = performance.now();
  for (const block of blocks) {
    privateDecrypt(
      { key: privateKey as never, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      block,
    );
  }
  return blocks.length / ((performance.now() - start) / 1000);
}

async function createAll(
  docs: readonly KubeObject[],
  client: ReturnType<typeof createKubeClient>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < docs.length) {
      const doc = docs[next++];
      if (doc !== undefined) await client.create(doc);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

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
    const docs = Array.from({ length: N }, (_, i) => {
      const secret = readSecret(
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: `s${i}`, namespace: NS },
          stringData: { user: `u${i}`, password: randomBytes(24).toString("hex") },
        },
        "bench",
      );
      return JSON.parse(
        JSON.stringify(sealSecret(secret, { publicKey: cert.publicKey })),
      ) as KubeObject;
    });

    const secrets = new Informer({
      client: admin,
      type: { apiVersion: "v1", kind: "Secret" },
      namespace: NS,
      clock: realClock(),
    });
    let owned = 0;
    const allThere = new Promise<void>((resolve) => {
      secrets.on("add", (s) => {
        if ((s.metadata.ownerReferences ?? []).length > 0 && ++owned === N) resolve();
      });
    });
    secrets.start();
    await secrets.waitForSync();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await createAll(docs, admin);
    const created = performance.now() - t0;
    await allThere;
    const total = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await secrets.stop();

    const { items } = await admin.list<KubeObject>(
      { apiVersion: "v1", kind: "Secret" },
      { namespace: NS, labelSelector: "gitops-guard.io/sealing-key=active" },
    );
    const ring = new Keyring(keysFromDocuments(items, "cluster"));
    const key = ring.latest();
    if (key === undefined) throw new Error("no key");
    const raw = rawDecryptRate(
      key.publicKey.export({ type: "spki", format: "pem" }).toString(),
      key.privateKey,
    );
    const parsed = docs.map((d) => readSealedSecret(d, "bench"));
    const fresh = new Keyring([key]);
    const u0 = performance.now();
    for (const ss of parsed) unsealSealedSecret(ss, { keyring: fresh });
    const unsealRate = (parsed.length * 2) / ((performance.now() - u0) / 1000);
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
