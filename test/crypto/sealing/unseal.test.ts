import { beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../../src/errors.js";
import { Keyring } from "../../../src/crypto/sealing/keyring.js";
import { generateSealingKey, type GeneratedKey } from "../../../src/crypto/sealing/keygen.js";
import { readSecret, sealSecret } from "../../../src/crypto/sealing/seal.js";
import { readSealedSecret } from "../../../src/crypto/sealing/sealed-secret.js";
import { unsealSealedSecret, type UnsealOptions } from "../../../src/crypto/sealing/unseal.js";
import { TAMPER_CASES, type SealedSet } from "./tamper-cases.js";

const PASSWORD = "hunter2-secret-value";
let key: GeneratedKey;
let ring: Keyring;
let set: SealedSet;

function sealedBy(g: GeneratedKey, name: string, scope?: "cluster-wide"): Record<string, unknown> {
  const doc = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "prod" },
    stringData: { password: PASSWORD, user: "admin" },
  };
  const ss = sealSecret(readSecret(doc, "t"), {
    publicKey: g.key.publicKey,
    ...(scope === undefined ? {} : { scope }),
  });
  return JSON.parse(JSON.stringify(ss)) as Record<string, unknown>;
}

beforeAll(async () => {
  const [main, other] = await Promise.all([
    generateSealingKey({ now: Date.UTC(2026, 0, 1) }),
    generateSealingKey({ now: Date.UTC(2026, 0, 2) }),
  ]);
  key = main;
  ring = new Keyring([key.key]);
  set = {
    strict: sealedBy(key, "db"),
    clusterWide: sealedBy(key, "db", "cluster-wide"),
    otherObject: sealedBy(key, "api"),
    otherKey: sealedBy(other, "db"),
  };
});

function unseal(
  doc: unknown,
  options: Partial<UnsealOptions> = {},
): ReturnType<typeof unsealSealedSecret> {
  return unsealSealedSecret(readSealedSecret(doc, "test"), { keyring: ring, ...options });
}

function caught(fn: () => unknown): Error & { code?: string; details?: unknown } {
  try {
    fn();
  } catch (err: unknown) {
    return err as Error;
  }
  throw new Error("expected a throw");
}

describe("unsealSealedSecret", () => {
  it("forces name and namespace, keeps template metadata, type and immutable", () => {
    const doc = structuredClone(set.strict) as { spec: { template: Record<string, unknown> } };
    doc.spec.template = {
      metadata: { name: "ignored", namespace: "ignored", labels: { app: "db" } },
      type: "kubernetes.io/basic-auth",
      immutable: true,
    };
    const { secret, openedWith } = unseal(doc);
    expect(secret.metadata).toEqual({ name: "db", namespace: "prod", labels: { app: "db" } });
    expect(secret).toMatchObject({ type: "kubernetes.io/basic-auth", immutable: true });
    expect(Buffer.from(secret.data.password!, "base64").toString()).toBe(PASSWORD);
    expect([...openedWith.values()]).toEqual([key.key.fingerprint, key.key.fingerprint]);
  });

  it("sets a controller ownerReference unless the template says skip-set-owner-references", () => {
    const owned = unseal(set.strict, { ownerUid: "uid-1" }).secret.metadata;
    expect(owned.ownerReferences).toEqual([
      {
        apiVersion: "gitops-guard.io/v1alpha1",
        kind: "SealedSecret",
        name: "db",
        uid: "uid-1",
        controller: true,
      },
    ]);
    const doc = structuredClone(set.strict) as {
      spec: { template: { metadata: Record<string, unknown> } };
    };
    doc.spec.template.metadata.annotations = {
      "sealedsecrets.bitnami.com/skip-set-owner-references": "true",
    };
    expect(unseal(doc, { ownerUid: "uid-1" }).secret.metadata.ownerReferences).toBeUndefined();
  });

  it("renders spec.template.data with the decrypted values, and it wins over an item", () => {
    const doc = structuredClone(set.strict) as { spec: { template: Record<string, unknown> } };
    doc.spec.template.data = {
      "config.json": '{"user": {{ toJson .user }}, "password": {{ toJson .password }}}',
      user: "{{ .user | upper }}",
    };
    const { values } = unseal(doc);
    expect(JSON.parse(values.get("config.json")!.toString())).toEqual({
      user: "admin",
      password: PASSWORD,
    });
    expect(values.get("user")?.toString()).toBe("ADMIN");
  });

  it("refuses the deprecated v1 form, as kubeseal --recovery-unseal does", () => {
    const v1 = { ...set.strict, spec: { data: "AgBy3i4OJSWK+PiTySYZZA==" } };
    expect(caught(() => unseal(v1))).toMatchObject({
      code: ErrorCodes.UNSEAL_DEPRECATED_V1,
      message: expect.stringContaining("uses the deprecated v1 form (spec.data") as unknown,
    });
    const both = structuredClone(set.strict) as { spec: Record<string, unknown> };
    both.spec.data = "AgBy3i4OJSWK+PiTySYZZA==";
    expect(caught(() => unseal(both)).message).toContain(
      "has both spec.data and spec.encryptedData",
    );
  });

  it("refuses documents that are not SealedSecrets, naming what they are", () => {
    expect(caught(() => readSealedSecret({ kind: "Secret" }, "document 3"))).toMatchObject({
      code: ErrorCodes.UNSEAL_INPUT_INVALID,
      message: "document 3: is a Secret, not a SealedSecret",
    });
    const noName = {
      apiVersion: "bitnami.com/v1alpha1",
      kind: "SealedSecret",
      metadata: {},
      spec: {},
    };
    expect(caught(() => readSealedSecret(noName, "stdin")).message).toBe(
      "stdin: metadata.name is missing",
    );
  });

  it("lists every failing item with its own reason in one error", () => {
    const doc = structuredClone(set.strict) as { spec: { encryptedData: Record<string, string> } };
    doc.spec.encryptedData.password = "not base64!";
    doc.spec.encryptedData.user = "AAAA";
    const err = caught(() => unseal(doc));
    expect(err).toMatchObject({ code: ErrorCodes.UNSEAL_FAILED });
    expect(err.message).toMatch(
      /^SealedSecret prod\/db: 2 of 2 items fail: value "password" is not valid base64.*; value "user" is truncated/,
    );
    expect(err.details).toEqual({
      object: "prod/db",
      items: [
        { key: "password", code: ErrorCodes.UNSEAL_BAD_BASE64 },
        { key: "user", code: ErrorCodes.UNSEAL_TRUNCATED },
      ],
    });
  });
});

describe("tampering", () => {
  it.each(TAMPER_CASES)("refuses $name with its own explanation", (c) => {
    const err = caught(() =>
      unseal(c.make(set), c.otherObjects === undefined ? {} : { otherObjects: c.otherObjects }),
    );
    expect(err.code).toBe(c.code);
    expect(err.message).toMatch(/^SealedSecret prod\/db(-renamed)?|^SealedSecret staging\/db/);
    expect(err.message).toMatch(c.message);
    // Never a value, never a stack meant for a person.
    expect(err.message).not.toContain(PASSWORD);
    expect(err.message).not.toContain(Buffer.from(PASSWORD).toString("base64"));
    expect(err.message).not.toMatch(/\n\s+at /);
  });

  it("keeps one RSA operation per value when nothing is wrong", () => {
    const fresh = new Keyring([key.key]);
    unsealSealedSecret(readSealedSecret(set.strict, "t"), { keyring: fresh });
    expect(fresh.rsaOperations).toBe(2);
  });
});
