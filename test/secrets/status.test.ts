import { beforeAll, describe, expect, it } from "vitest";
import { Keyring } from "../../src/crypto/sealing/keyring.js";
import { generateSealingKey, type GeneratedKey } from "../../src/crypto/sealing/keygen.js";
import { readSecret, sealSecret } from "../../src/crypto/sealing/seal.js";
import { readSealedSecret } from "../../src/crypto/sealing/sealed-secret.js";
import { unsealSealedSecret } from "../../src/crypto/sealing/unseal.js";
import { KeyUsage, reasonLabel, secretsMetrics } from "../../src/secrets/metrics.js";
import { REASONS } from "../../src/secrets/names.js";
import type { SealedSecretObject } from "../../src/secrets/render.js";
import { failed, nextStatus, notOwnedMessage, synced } from "../../src/secrets/status.js";
import { needsReconcile } from "../../src/secrets/watch.js";
import { createMetrics } from "../../src/telemetry/metrics.js";

const PASSWORD = "status-test-password-value";
const T0 = Date.UTC(2026, 0, 1);
let key: GeneratedKey;
let other: GeneratedKey;

beforeAll(async () => {
  [key, other] = await Promise.all([
    generateSealingKey({ now: T0, bits: 2048 }),
    generateSealingKey({ now: T0, bits: 2048 }),
  ]);
});

function ssObject(generation: number, status?: SealedSecretObject["status"]): SealedSecretObject {
  return {
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "SealedSecret",
    metadata: { name: "db", namespace: "prod", generation, uid: "u1" },
    spec: { encryptedData: {} },
    ...(status === undefined ? {} : { status }),
  };
}

describe("nextStatus", () => {
  it("sets observedGeneration and Synced, and is undefined once the live status says the same", () => {
    const first = nextStatus(ssObject(1), synced("prod/db", "created"), T0);
    expect(first).toEqual({
      observedGeneration: 1,
      conditions: [
        {
          type: "Synced",
          status: "True",
          reason: "Unsealed",
          message: "Secret prod/db created",
          observedGeneration: 1,
          lastTransitionTime: "2026-01-01T00:00:00Z",
        },
      ],
    });
    expect(nextStatus(ssObject(1, first), synced("prod/db", "created"), T0 + 5000)).toBeUndefined();
    // A new generation is written, and the transition time stays while status stays True.
    const second = nextStatus(ssObject(2, first), synced("prod/db", "created"), T0 + 5000);
    expect(second?.observedGeneration).toBe(2);
    expect(second?.conditions[0]?.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
    const failing = nextStatus(ssObject(2, second), failed(REASONS.unsealFailed, "x"), T0 + 9000);
    expect(failing?.conditions[0]).toMatchObject({
      status: "False",
      reason: "UnsealFailed",
      lastTransitionTime: "2026-01-01T00:00:09Z",
    });
  });

  it("carries the sealing library's explanation for a value no key opens, never the value", () => {
    const doc = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db", namespace: "prod" },
      stringData: { password: PASSWORD },
    };
    const ss = sealSecret(readSecret(doc, "t"), { publicKey: other.key.publicKey });
    let message = "";
    try {
      unsealSealedSecret(readSealedSecret(JSON.parse(JSON.stringify(ss)), "t"), {
        keyring: new Keyring([key.key]),
      });
    } catch (err: unknown) {
      message = (err as Error).message;
    }
    const outcome = failed(REASONS.unsealFailed, message);
    expect(outcome.message).toMatch(/value "password" cannot be opened: none of the 1 keys held/);
    expect(outcome.message).toContain(key.key.fingerprint);
    expect(outcome.message).not.toContain(PASSWORD);
  });

  it("clips a very long message and explains a Secret it does not own", () => {
    expect(failed(REASONS.unsealFailed, "x".repeat(20_000)).message.length).toBeLessThan(8_200);
    expect(notOwnedMessage("prod", "db")).toMatch(
      /Secret prod\/db already exists and is not managed by this SealedSecret.*managed="true"/,
    );
  });
});

describe("needsReconcile", () => {
  const base = ssObject(3, { observedGeneration: 3, conditions: [] });

  it("ignores our own status writes but not spec, annotation or uid changes, nor a wiped status", () => {
    expect(needsReconcile(base, undefined)).toBe(true);
    expect(needsReconcile(base, ssObject(3))).toBe(false);
    expect(needsReconcile(ssObject(4, { observedGeneration: 3 }), base)).toBe(true);
    const annotated: SealedSecretObject = {
      ...base,
      metadata: {
        ...base.metadata,
        annotations: { "sealedsecrets.bitnami.com/namespace-wide": "true" },
      },
    };
    expect(needsReconcile(annotated, base)).toBe(true);
    expect(needsReconcile({ ...base, metadata: { ...base.metadata, uid: "u2" } }, base)).toBe(true);
    expect(needsReconcile(ssObject(3), base)).toBe(true);
  });
});

describe("metrics", () => {
  it("counts SealedSecrets per key and names reasons by error code", async () => {
    const metrics = createMetrics();
    const m = secretsMetrics(metrics.registry);
    expect(secretsMetrics(metrics.registry)).toEqual(m);
    const usage = new KeyUsage(m.keyUsage);
    usage.set("a/x", new Set(["SHA256:old", "SHA256:new"]));
    usage.set("a/y", new Set(["SHA256:new"]));
    usage.set("a/x", new Set(["SHA256:new"]));
    usage.delete("a/gone");
    expect([usage.count("SHA256:old"), usage.count("SHA256:new")]).toEqual([0, 2]);
    const text = await metrics.text();
    expect(text).toContain('gitops_guard_secrets_sealedsecrets_by_key{fingerprint="SHA256:new"} 2');
    expect(reasonLabel("GG_UNSEAL_TAMPERED")).toBe("unseal_tampered");
  });
});
