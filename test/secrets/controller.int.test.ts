/**
 * The SealedSecret controller on the real API server: a SealedSecret becomes its Secret; an
 * edited or deleted Secret comes back; a tampered SealedSecret, or a Secret it does not own,
 * is reported in status and an Event and nothing is written; no value is ever logged.
 */
import { describe, expect, it } from "vitest";
import {
  BITNAMI_KEY_SECRET_LABEL,
  KEY_SECRET_LABEL,
  keySecret,
} from "../../src/crypto/sealing/key-secret.js";
import { generateSealingKey } from "../../src/crypto/sealing/keygen.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { decoded, fetchCert, readyController, sealedSecret, type Controller } from "./harness.js";

const PASSWORD = "pw-7f3a9c1e-never-logged";
const TOKEN = "tok-51d2e8b0-never-logged";
const SS = { apiVersion: "gitops-guard.io/v1alpha1", kind: "SealedSecret" } as const;
const SECRET = { apiVersion: "v1", kind: "Secret" } as const;
const admin = clientAs("admin");

const getSs = (namespace: string, name: string): Promise<KubeObject | undefined> =>
  admin.get({ ...SS, namespace, name });
const getSecret = (namespace: string, name: string): Promise<KubeObject | undefined> =>
  admin.get({ ...SECRET, namespace, name });

interface Synced {
  status?: string;
  reason?: string;
  message?: string;
}

async function synced(namespace: string, name: string): Promise<Synced | undefined> {
  const ss = await getSs(namespace, name);
  const conditions = (ss?.["status"] as { conditions?: (Synced & { type: string })[] } | undefined)
    ?.conditions;
  return conditions?.find((c) => c.type === "Synced");
}

async function eventsFor(namespace: string, name: string): Promise<KubeObject[]> {
  const { items } = await admin.list<KubeObject>(
    { apiVersion: "v1", kind: "Event" },
    { namespace },
  );
  return items.filter((e) => (e["involvedObject"] as { name?: string }).name === name);
}

/** Nothing the controller said anywhere holds a value. */
async function expectNoValues(c: Controller, namespace: string): Promise<void> {
  const { items: events } = await admin.list({ apiVersion: "v1", kind: "Event" }, { namespace });
  const { items: sealed } = await admin.list(SS, { namespace });
  const said = [
    c.logs.raw(),
    JSON.stringify(events),
    JSON.stringify(sealed.map((s) => s["status"])),
    await c.metrics(),
  ].join("\n");
  for (const value of [PASSWORD, TOKEN]) {
    expect(said).not.toContain(value);
    expect(said).not.toContain(Buffer.from(value).toString("base64"));
  }
}

/** The Secret of SealedSecret ns/db holds its values, type, labels and owner; status says so. */
async function expectMaterialised(ns: string, uid: string): Promise<void> {
  await eventually("the Secret", async () => (await getSecret(ns, "db")) !== undefined);
  const secret = await getSecret(ns, "db");
  expect(decoded(secret)).toEqual({
    password: PASSWORD,
    token: TOKEN,
    url: `postgres://app:${PASSWORD}@db`,
  });
  expect(secret?.["type"]).toBe("kubernetes.io/basic-auth");
  expect(secret?.metadata.labels).toMatchObject({ app: "db" });
  expect(secret?.metadata.ownerReferences).toEqual([
    expect.objectContaining({
      kind: "SealedSecret",
      name: "db",
      uid: uid,
      controller: true,
    }),
  ]);
  expect(secret?.metadata.managedFields?.some((f) => f.manager === "gitops-guard")).toBe(true);
  await eventually("Synced=True", async () => (await synced(ns, "db"))?.status === "True");
  const ss = await getSs(ns, "db");
  expect((ss?.["status"] as { observedGeneration?: number }).observedGeneration).toBe(
    ss?.metadata.generation,
  );
}

describe("the SealedSecret controller", () => {
  it("makes its key, materialises a SealedSecret, and restores its Secret when edited or deleted", async () => {
    const ns = await testNamespace("ss");
    const c = await readyController(ns);
    const { items: keySecrets } = await admin.list<KubeObject>(SECRET, {
      namespace: ns,
      labelSelector: `${KEY_SECRET_LABEL}=active`,
    });
    expect(keySecrets).toHaveLength(1);
    expect(keySecrets[0]?.["type"]).toBe("kubernetes.io/tls");
    expect(keySecrets[0]?.metadata.labels?.[BITNAMI_KEY_SECRET_LABEL]).toBe("active");

    const cert = await fetchCert(c);
    const doc = sealedSecret(
      cert,
      { namespace: ns, name: "db" },
      { password: PASSWORD, token: TOKEN },
      {
        metadata: { name: "db", namespace: ns, labels: { app: "db" } },
        type: "kubernetes.io/basic-auth",
      },
    );
    const template = (doc["spec"] as { template: Record<string, unknown> }).template;
    template["data"] = { url: "postgres://app:{{ .password }}@db" };
    const created = await admin.create(doc);

    await expectMaterialised(ns, created.metadata.uid ?? "");

    // Out of band: an edit is undone, then a deletion is undone.
    await admin.mergePatch(
      { ...SECRET, namespace: ns, name: "db" },
      {
        data: { password: Buffer.from("hijacked").toString("base64"), extra: "eA==" },
      },
    );
    await eventually("the edit undone", async () => {
      const d = decoded(await getSecret(ns, "db"));
      return d["password"] === PASSWORD && d["extra"] === undefined;
    });
    await admin.delete({ ...SECRET, namespace: ns, name: "db" });
    await eventually("the deletion undone", async () => {
      return decoded(await getSecret(ns, "db"))["token"] === TOKEN;
    });
    const metrics = await c.metrics();
    expect(metrics).toMatch(/gitops_guard_secrets_unseal_total\{result="success",reason="ok"\} \d/);
    expect(metrics).toContain("gitops_guard_secrets_keys 1");
    await expectNoValues(c, ns);
  });

  it("refuses a tampered SealedSecret with a clear Synced=False, an Event, and no Secret", async () => {
    const ns = await testNamespace("ss");
    const c = await readyController(ns);
    const doc = sealedSecret(
      await fetchCert(c),
      { namespace: ns, name: "api" },
      { password: PASSWORD },
    );
    const spec = doc["spec"] as { encryptedData: Record<string, string> };
    const bytes = Buffer.from(spec.encryptedData["password"] ?? "", "base64");
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0x01;
    spec.encryptedData["password"] = bytes.toString("base64");
    await admin.create(doc);
    await eventually("Synced=False", async () => (await synced(ns, "api"))?.status === "False");
    const condition = await synced(ns, "api");
    expect(condition?.reason).toBe("UnsealFailed");
    expect(condition?.message).toMatch(
      /SealedSecret .*api: value "password" .*(tamper|altered|authenticat)/i,
    );
    expect(await getSecret(ns, "api")).toBeUndefined();
    await eventually("a Warning Event", async () =>
      (await eventsFor(ns, "api")).some(
        (e) => e["type"] === "Warning" && e["reason"] === "UnsealFailed",
      ),
    );
    expect(await c.metrics()).toMatch(
      /gitops_guard_secrets_unseal_total\{result="failure",reason="unseal_tampered"\} 1/,
    );
    await expectNoValues(c, ns);
  });

  it("explains a value copied from another SealedSecret of the namespace", async () => {
    const ns = await testNamespace("ss");
    const c = await readyController(ns);
    const cert = await fetchCert(c);
    const original = sealedSecret(cert, { namespace: ns, name: "api" }, { password: PASSWORD });
    await admin.create(original);
    // The original must have opened before the copy is judged: otherwise the copy's failure can be
    // written first and the last assertion would race the original's Secret.
    await eventually(
      "the original's Secret",
      async () => (await getSecret(ns, "api")) !== undefined,
    );
    const copied = sealedSecret(cert, { namespace: ns, name: "copy" }, { password: PASSWORD });
    const from = (original["spec"] as { encryptedData: Record<string, string> }).encryptedData;
    (copied["spec"] as { encryptedData: Record<string, string> }).encryptedData["password"] =
      from["password"] ?? "";
    await admin.create(copied);
    await eventually("Synced=False", async () => (await synced(ns, "copy"))?.status === "False");
    expect((await synced(ns, "copy"))?.message).toMatch(
      new RegExp(
        `value "password" was sealed for "${ns}/api" \\(strict scope\\).*was it copied from SealedSecret ${ns}/api\\?`,
      ),
    );
    expect(await getSecret(ns, "copy")).toBeUndefined();
    expect(decoded(await getSecret(ns, "api"))).toEqual({ password: PASSWORD });
  });

  it("leaves a Secret it does not own alone until it is annotated managed", async () => {
    const ns = await testNamespace("ss");
    const c = await readyController(ns);
    await admin.create({
      ...SECRET,
      metadata: { name: "taken", namespace: ns },
      stringData: { mine: "yes" },
    });
    await admin.create(
      sealedSecret(await fetchCert(c), { namespace: ns, name: "taken" }, { password: PASSWORD }),
    );
    await eventually("Synced=False", async () => (await synced(ns, "taken"))?.status === "False");
    expect(await synced(ns, "taken")).toMatchObject({
      reason: "SecretNotOwned",
      message: expect.stringMatching(
        /already exists and is not managed by this SealedSecret/,
      ) as unknown,
    });
    expect(decoded(await getSecret(ns, "taken"))).toEqual({ mine: "yes" });
    await eventually("a Warning Event", async () =>
      (await eventsFor(ns, "taken")).some((e) => e["reason"] === "SecretNotOwned"),
    );
    await admin.mergePatch(
      { ...SECRET, namespace: ns, name: "taken" },
      {
        metadata: { annotations: { "sealedsecrets.bitnami.com/managed": "true" } },
      },
    );
    await eventually(
      "the Secret taken over",
      async () => decoded(await getSecret(ns, "taken"))["password"] === PASSWORD,
    );
    await eventually("Synced=True", async () => (await synced(ns, "taken"))?.status === "True");
    await expectNoValues(c, ns);
  });

  it("imports a Bitnami key Secret while running: what it sealed then opens", async () => {
    const ns = await testNamespace("ss");
    const c = await readyController(ns);
    const bitnami = await generateSealingKey({ now: Date.now() - 86_400_000, bits: 2048 });
    await admin.create(
      sealedSecret(bitnami.certificatePem, { namespace: ns, name: "old" }, { password: PASSWORD }),
    );
    await eventually("Synced=False", async () => (await synced(ns, "old"))?.status === "False");
    expect((await synced(ns, "old"))?.message).toMatch(/none of the 1 keys held/);
    const secret = keySecret(bitnami, { namespace: ns, name: "sealed-secrets-keyabcde" });
    await admin.create({
      ...secret,
      metadata: { ...secret.metadata, labels: { [BITNAMI_KEY_SECRET_LABEL]: "active" } },
    });
    await eventually(
      "the Secret",
      async () => decoded(await getSecret(ns, "old"))["password"] === PASSWORD,
    );
    expect(await c.metrics()).toContain("gitops_guard_secrets_keys 2");
    // The imported key is older: the controller still seals new values with its own.
    expect(await fetchCert(c)).not.toBe(bitnami.certificatePem);
    await expectNoValues(c, ns);
  });
});
