import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../../src/errors.js";
import { Keyring } from "../../../src/crypto/sealing/keyring.js";
import { generateSealingKey } from "../../../src/crypto/sealing/keygen.js";
import { SCOPES, type Scope } from "../../../src/crypto/sealing/scope.js";
import { readSecret, sealSecret } from "../../../src/crypto/sealing/seal.js";
import { readSealedSecret } from "../../../src/crypto/sealing/sealed-secret.js";
import { unsealSealedSecret } from "../../../src/crypto/sealing/unseal.js";

/** mulberry32: a seeded generator, so a failing case can be replayed from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.SEALING_PROPERTY_SEED ?? 20260101);
const CASES = 40;
const MIB = 1024 * 1024;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

function dnsLabel(random: () => number, max: number): string {
  const length = 1 + Math.floor(random() * max);
  let out = ALPHABET[Math.floor(random() * 26)] ?? "a";
  for (let i = 1; i < length; i++) {
    const dash = i < length - 1 && random() < 0.1;
    out += dash ? "-" : (ALPHABET[Math.floor(random() * ALPHABET.length)] ?? "a");
  }
  return out;
}

/** Sizes from 0 B to 1 MiB, spread over orders of magnitude, both ends always included. */
function valueSize(random: () => number, index: number): number {
  if (index === 0) return 0;
  if (index === 1) return MIB;
  return Math.min(MIB, Math.floor(2 ** (random() * 20)));
}

let ring: Keyring;
beforeAll(async () => {
  const keys = await Promise.all(
    [0, 1].map((i) => generateSealingKey({ now: Date.UTC(2026, 0, 1 + i) })),
  );
  ring = new Keyring(keys.map((k) => k.key));
});

describe(`seal and open random Secrets (seed ${SEED}, ${CASES} cases)`, () => {
  it("opens every value, byte for byte, where its scope allows, and nowhere else", () => {
    const random = prng(SEED);
    const started = performance.now();
    const publicKey = ring.latest()!.publicKey;
    for (let i = 0; i < CASES; i++) {
      const name = dnsLabel(random, 63);
      const namespace = dnsLabel(random, 63);
      const scope: Scope = SCOPES[Math.floor(random() * 3)] ?? "strict";
      const values = {
        a: randomBytes(valueSize(random, i)),
        b: randomBytes(Math.floor(random() * 64)),
      };
      const doc = {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace },
        data: { a: values.a.toString("base64"), b: values.b.toString("base64") },
      };
      const sealed = sealSecret(readSecret(doc, `case ${i}`), { publicKey, scope });
      const wire = readSealedSecret(JSON.parse(JSON.stringify(sealed)), `case ${i}`);
      const opened = unsealSealedSecret(wire, { keyring: ring });
      expect(opened.values.get("a")?.equals(values.a), `case ${i} (${name}, ${scope})`).toBe(true);
      expect(opened.values.get("b")?.equals(values.b)).toBe(true);

      const elsewhere = {
        ...wire,
        metadata: { ...wire.metadata, name: `${name}-x`, namespace: `${namespace}-y` },
      };
      if (scope === "cluster-wide") {
        expect(
          unsealSealedSecret(elsewhere, { keyring: ring }).values.get("b")?.equals(values.b),
        ).toBe(true);
      } else {
        expect(() => unsealSealedSecret(elsewhere, { keyring: ring })).toThrow(
          expect.objectContaining({ code: ErrorCodes.UNSEAL_SCOPE_MISMATCH }) as Error,
        );
      }
    }
    // Bounded for CI on two cores.
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});
