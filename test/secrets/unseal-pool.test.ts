/**
 * The unseal threads give exactly what the library gives on the calling thread: the same Secret,
 * values byte for byte, the same key per item, the same errors with their codes; and they learn
 * a key added to the keyring after they started.
 */
import { afterAll, describe, expect, it } from "vitest";
import { generateSealingKey } from "../../src/crypto/sealing/keygen.js";
import { Keyring } from "../../src/crypto/sealing/keyring.js";
import { readSecret, sealSecret } from "../../src/crypto/sealing/seal.js";
import { readSealedSecret, type SealedSecret } from "../../src/crypto/sealing/sealed-secret.js";
import { ErrorCodes, GuardError } from "../../src/errors.js";
import { inlineUnsealer, startUnsealPool } from "../../src/secrets/unseal-pool.js";

const NOW = Date.UTC(2026, 0, 1);
const [first, second] = await Promise.all([
  generateSealingKey({ now: NOW, bits: 2048 }),
  generateSealingKey({ now: NOW + 1000, bits: 2048 }),
]);
const pool = startUnsealPool(2);
afterAll(async () => {
  await pool.close();
});

function sealed(name: string, key: typeof first, data: Record<string, string>): SealedSecret {
  const secret = readSecret(
    { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "shop" }, stringData: data },
    "test",
  );
  const doc: unknown = JSON.parse(
    JSON.stringify(sealSecret(secret, { publicKey: key.key.publicKey })),
  );
  return readSealedSecret(doc, "test");
}

describe("the unseal pool", () => {
  it("opens what the inline path opens, value for value", async () => {
    const keyring = new Keyring([first.key]);
    const ss = sealed("db", first, { user: "shop", password: "p\u00e4ss\u0000word" });
    const [threaded, inline] = await Promise.all([
      pool.unseal(ss, { keyring, ownerUid: "u-1" }),
      inlineUnsealer().unseal(ss, { keyring, ownerUid: "u-1" }),
    ]);
    expect(threaded.secret).toEqual(inline.secret);
    expect(threaded.openedWith).toEqual(inline.openedWith);
    expect([...threaded.values.keys()]).toEqual([...inline.values.keys()]);
    for (const [k, v] of inline.values) {
      expect(Buffer.isBuffer(threaded.values.get(k))).toBe(true);
      expect(threaded.values.get(k)?.equals(v)).toBe(true);
    }
  });

  it("rejects with the library's code when no key opens a value", async () => {
    const ss = sealed("other", second, { token: "t" });
    const err = await pool
      .unseal(ss, { keyring: new Keyring([first.key]) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuardError);
    expect((err as GuardError).code).toBe(ErrorCodes.UNSEAL_NO_KEY);
  });

  it("learns a key the keyring gained, on every thread", async () => {
    const keyring = new Keyring([first.key]);
    await pool.unseal(sealed("a", first, { v: "1" }), { keyring });
    keyring.add(second.key);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        pool.unseal(sealed(`n${String(i)}`, second, { v: String(i) }), { keyring }),
      ),
    );
    expect(results.map((r) => r.values.get("v")?.toString())).toEqual([
      "0",
      "1",
      "2",
      "3",
      "4",
      "5",
    ]);
    expect(new Set(results.map((r) => r.openedWith.get("v")))).toEqual(
      new Set([second.key.fingerprint]),
    );
  });
});
