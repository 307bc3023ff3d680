// The deprecated v1 form (spec.data), opened only when asked (the bitnami.com opt-in): the sealed
// Secret's metadata and data, name and namespace forced; moved objects, protobuf, both forms at
// once and bad base64 each refused with their own message; the CLI's default still refuses it.
import { beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, isGuardError } from "../../../src/errors.js";
import { encodeBase64 } from "../../../src/crypto/sealing/base64.js";
import { hybridEncrypt } from "../../../src/crypto/sealing/hybrid.js";
import { Keyring } from "../../../src/crypto/sealing/keyring.js";
import { generateSealingKey, type GeneratedKey } from "../../../src/crypto/sealing/keygen.js";
import { sealingLabel } from "../../../src/crypto/sealing/scope.js";
import { readSealedSecret } from "../../../src/crypto/sealing/sealed-secret.js";
import { unsealSealedSecret } from "../../../src/crypto/sealing/unseal.js";

const PASSWORD = "v1-password-never-shown";
let key: GeneratedKey;
let ring: Keyring;

beforeAll(async () => {
  key = await generateSealingKey({ now: Date.UTC(2026, 0, 1), bits: 2048 });
  ring = new Keyring([key.key]);
});

function v1(plaintext: Buffer, at = { namespace: "prod", name: "db" }, extra = {}) {
  const blob = hybridEncrypt(key.key.publicKey, plaintext, sealingLabel("strict", "prod", "db"));
  return readSealedSecret(
    {
      apiVersion: "bitnami.com/v1alpha1",
      kind: "SealedSecret",
      metadata: at,
      spec: { data: encodeBase64(blob), encryptedData: {}, ...extra },
    },
    "test",
  );
}

const inner = Buffer.from(
  JSON.stringify({
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: "x",
      namespace: "y",
      labels: { tier: "db" },
      uid: "old",
      resourceVersion: "9",
    },
    type: "kubernetes.io/basic-auth",
    data: { password: Buffer.from(PASSWORD).toString("base64") },
  }),
);

function refusal(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (err: unknown) {
    if (isGuardError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("v1 spec.data", () => {
  it("opens with acceptV1Data: the sealed Secret, renamed to the SealedSecret", () => {
    const { secret, values } = unsealSealedSecret(v1(inner), {
      keyring: ring,
      acceptV1Data: true,
      ownerUid: "u-1",
    });
    expect(secret.metadata).toEqual({
      name: "db",
      namespace: "prod",
      labels: { tier: "db" },
      ownerReferences: [
        {
          apiVersion: "bitnami.com/v1alpha1",
          kind: "SealedSecret",
          name: "db",
          uid: "u-1",
          controller: true,
        },
      ],
    });
    expect(secret.type).toBe("kubernetes.io/basic-auth");
    expect(values.get("password")?.toString()).toBe(PASSWORD);
  });

  it("is refused without acceptV1Data, as kubeseal --recovery-unseal does", () => {
    expect(refusal(() => unsealSealedSecret(v1(inner), { keyring: ring })).code).toBe(
      ErrorCodes.UNSEAL_DEPRECATED_V1,
    );
  });

  it("refuses a moved object, protobuf, both forms and bad base64, each with its reason", () => {
    const moved = refusal(() =>
      unsealSealedSecret(v1(inner, { namespace: "staging", name: "db" }), {
        keyring: ring,
        acceptV1Data: true,
      }),
    );
    expect(moved.message).toContain("spec.data");
    expect(moved.message).toContain("belongs to another object");
    const protobuf = Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), Buffer.from("...")]);
    expect(
      refusal(() => unsealSealedSecret(v1(protobuf), { keyring: ring, acceptV1Data: true }))
        .message,
    ).toContain("protobuf-encoded Secret; only the JSON encoding is supported");
    const both = v1(inner, undefined, { encryptedData: { a: "AAAA" } });
    expect(
      refusal(() => unsealSealedSecret(both, { keyring: ring, acceptV1Data: true })).code,
    ).toBe(ErrorCodes.UNSEAL_DEPRECATED_V1);
    const notJson = refusal(() =>
      unsealSealedSecret(v1(Buffer.from("not json")), { keyring: ring, acceptV1Data: true }),
    );
    expect(notJson.message).toContain("does not hold a JSON-encoded Secret");
    for (const r of [moved, notJson]) expect(r.message).not.toContain(PASSWORD);
  });
});
