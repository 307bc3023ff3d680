/**
 * Keys in the cluster: rotation on demand and on schedule (new certificate served, old
 * SealedSecrets still open), no duplicate key after a restart or when two controllers start at
 * once, and a SealedSecret written by the real kubeseal with our certificate materialises.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/crypto/sealing/certificate.js";
import { KEY_SECRET_LABEL } from "../../src/crypto/sealing/key-secret.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { realClock } from "../../src/runtime/clock.js";
import { KeyStore } from "../../src/secrets/keys.js";
import { createLogger } from "../../src/telemetry/log.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { ensureGoTool, GO_TOOL_BUILD_TIMEOUT_MS } from "../tools/go-tools.js";
import {
  decoded,
  fetchCert,
  sealedSecret,
  startController,
  waitReady,
  type Controller,
} from "./harness.js";

const PASSWORD = "pw-keys-0c9e-never-logged";
const SS = { apiVersion: "gitops-guard.io/v1alpha1", kind: "SealedSecret" } as const;
const SECRET = { apiVersion: "v1", kind: "Secret" } as const;
const admin = clientAs("admin");
const controllers: Controller[] = [];
let kubeseal: string;

beforeAll(() => {
  kubeseal = ensureGoTool("kubeseal");
}, GO_TOOL_BUILD_TIMEOUT_MS);

afterEach(async () => {
  await Promise.all(controllers.splice(0).map((c) => c.stop()));
});

async function start(
  namespace: string,
  opts: Parameters<typeof startController>[1] = {},
): Promise<Controller> {
  const c = await startController(namespace, opts);
  controllers.push(c);
  return c;
}

async function keySecrets(namespace: string): Promise<KubeObject[]> {
  const { items } = await admin.list<KubeObject>(SECRET, {
    namespace,
    labelSelector: `${KEY_SECRET_LABEL}=active`,
  });
  return items;
}

async function password(namespace: string, name: string): Promise<string | undefined> {
  return decoded(await admin.get({ ...SECRET, namespace, name }))["password"];
}

describe("sealing keys in the cluster", () => {
  it("rotates on demand: a new certificate is served and old SealedSecrets still open", async () => {
    const ns = await testNamespace("keys");
    const c = await start(ns);
    await waitReady(c);
    const oldCert = await fetchCert(c);
    await admin.create(
      sealedSecret(oldCert, { namespace: ns, name: "old" }, { password: PASSWORD }),
    );
    await eventually("the old Secret", async () => (await password(ns, "old")) === PASSWORD);

    const fingerprint = await c.component.rotateKey();
    const newCert = await fetchCert(c);
    expect(parseCertificate(newCert, "new").fingerprint).toBe(fingerprint);
    expect(newCert).not.toBe(oldCert);
    expect(await keySecrets(ns)).toHaveLength(2);

    await admin.create(sealedSecret(newCert, { namespace: ns, name: "new" }, { password: "n" }));
    await eventually("the new Secret", async () => (await password(ns, "new")) === "n");
    // The old one is reconciled again (its Secret deleted) and still opens with the old key.
    await admin.delete({ ...SECRET, namespace: ns, name: "old" });
    await eventually("the old Secret back", async () => (await password(ns, "old")) === PASSWORD);
    const metrics = await c.metrics();
    expect(metrics).toContain("gitops_guard_secrets_keys 2");
    expect(metrics).toContain(
      `gitops_guard_secrets_sealedsecrets_by_key{fingerprint="${fingerprint}"} 1`,
    );
    expect(c.logs.raw()).not.toContain(PASSWORD);
  });

  it("renews on schedule, and a restarted controller makes no duplicate key", async () => {
    const ns = await testNamespace("keys");
    const first = await start(ns, { options: { renewPeriodMs: 3_000 } });
    await waitReady(first);
    await eventually("a renewed key", async () => (await keySecrets(ns)).length >= 2, 20_000);
    await first.stop();
    controllers.splice(controllers.indexOf(first), 1);
    const names = (await keySecrets(ns)).map((s) => s.metadata.name).sort();
    expect(names[0]).toMatch(/^sealing-key-\d{8}t\d{6}$/);
    expect(names).toContain("sealing-key-initial");

    const again = await start(ns);
    await waitReady(again);
    expect((await keySecrets(ns)).map((s) => s.metadata.name).sort()).toEqual(names);
    expect(await again.metrics()).toContain(`gitops_guard_secrets_keys ${names.length}`);
  });

  it("makes one key when two controllers start at once, behind the Lease or not", async () => {
    const ns = await testNamespace("keys");
    const [a, b] = await Promise.all([
      start(ns, { identity: "replica-a" }),
      start(ns, { identity: "replica-b" }),
    ]);
    await eventually("a leader", () =>
      [a, b].some((c) => Object.values(c.component.readiness()).every(Boolean)),
    );
    expect(await keySecrets(ns)).toHaveLength(1);

    // Without a Lease: the key's name is its slot, so the API server lets one create win.
    const bare = await testNamespace("keys");
    const logger = createLogger({ level: "silent" });
    const stores = [0, 1, 2].map(
      () =>
        new KeyStore({
          kube: clientAs("secrets"),
          namespace: bare,
          clock: realClock(),
          logger,
          bits: 2048,
        }),
    );
    await Promise.all(stores.map((s) => s.ensureKey()));
    expect(await keySecrets(bare)).toHaveLength(1);
    const fingerprints = new Set(stores.map((s) => s.keyring.latest()?.fingerprint));
    expect(fingerprints.size).toBe(1);
  });

  it("materialises a SealedSecret written by the real kubeseal with our certificate", async () => {
    const ns = await testNamespace("keys");
    const c = await start(ns);
    await waitReady(c);
    const dir = mkdtempSync(join(tmpdir(), "kubeseal-"));
    const certFile = join(dir, "cert.pem");
    writeFileSync(certFile, await fetchCert(c));
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "from-kubeseal", namespace: ns },
      stringData: { password: PASSWORD },
    };
    const out = execFileSync(kubeseal, ["--cert", certFile, "-o", "json"], {
      input: JSON.stringify(secret),
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", HOME: dir },
    });
    const sealed = JSON.parse(out) as KubeObject;
    expect(sealed.apiVersion).toBe("bitnami.com/v1alpha1");
    await admin.create({ ...sealed, apiVersion: SS.apiVersion });
    await eventually("the Secret", async () => (await password(ns, "from-kubeseal")) === PASSWORD);
    const verify = await fetch(`${c.url}/v1/verify`, { method: "POST", body: out });
    expect(verify.status).toBe(200);
  });
});
