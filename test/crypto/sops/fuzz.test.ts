/**
 * Random byte flips anywhere in real sops files (data, metadata, comments, syntax), from a
 * fixed seed: every mutant is either refused with a GuardError or, when the flip hit
 * something the format does not protect and does not use (a comment, a PGP stanza, the name
 * of a key whose value is in clear), decrypts to the same values: the same MAC, and every
 * encrypted value at its own key path. Never another exception, never other plaintext.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  decryptSops,
  isComment,
  isList,
  isMap,
  parseSopsFile,
  renderSops,
  type SopsDecrypted,
  type SopsFormat,
  type SopsKeys,
  type SopsValue,
} from "../../../src/crypto/sops/index.js";
import { isGuardError } from "../../../src/errors.js";
import { fixture, identities } from "./fixtures.js";

const MUTANTS_PER_FILE = 200;

const FILES: readonly (readonly [string, SopsFormat])[] = [
  ["derived-age/example.yaml", "yaml"],
  ["derived-age/example.json", "json"],
  ["kc/envs-env.env", "dotenv"],
  ["derived-age/example.ini", "ini"],
  ["kc/files-file.txt", "binary"],
];

/** mulberry32: small, seeded, good enough to spread flips over a file. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(original: Buffer, next: () => number): Buffer {
  const copy = Buffer.from(original);
  const flips = 1 + Math.floor(next() * 3);
  for (let i = 0; i < flips; i++) {
    const at = Math.floor(next() * copy.length);
    copy[at] = (copy[at] ?? 0) ^ (1 + Math.floor(next() * 255));
  }
  return copy;
}

/** Every leaf of the documents by a path that includes list positions. */
function leaves(values: readonly SopsValue[], prefix = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const visit = (value: SopsValue, path: string): void => {
    if (isMap(value)) {
      for (const e of value.entries) if (!isComment(e)) visit(e.value, `${path}/${e.key}`);
    } else if (isList(value)) {
      value.items.forEach((item, i) => {
        if (!isComment(item)) visit(item, `${path}[${i}]`);
      });
    } else {
      out.set(path, value);
    }
  };
  values.forEach((doc, i) => {
    visit(doc, `${prefix}${i}`);
  });
  return out;
}

/** The mutant's plaintext differs from the original's only where sops's format allows it. */
function sameValues(
  result: SopsDecrypted,
  original: SopsDecrypted,
  encrypted: readonly string[],
): void {
  expect(result.mac).toBe(original.mac);
  const before = leaves(original.documents);
  const after = leaves(result.documents);
  for (const path of encrypted) expect(after.get(path)).toEqual(before.get(path));
}

let keys: SopsKeys;
beforeAll(async () => {
  keys = { age: await identities(["derived-test", "kc-age"]) };
});

describe("byte-flipped sops files", () => {
  it.each(FILES)(
    "%s: every mutant is refused or decrypts to the original",
    async (file, format) => {
      const original = fixture(file);
      const decrypted = await decryptSops({ name: file, content: original, format }, keys);
      const plain = renderSops(decrypted, "json");
      const encrypted = [
        ...leaves(parseSopsFile({ name: file, content: original, format }).documents),
      ]
        .filter(([, value]) => typeof value === "string" && value.startsWith("ENC["))
        .map(([path]) => path);
      expect(encrypted.length).toBeGreaterThan(0);
      const next = random(0x5eed + original.length);
      const outcomes = new Map<string, number>();
      for (let i = 0; i < MUTANTS_PER_FILE; i++) {
        const mutant = mutate(original, next);
        let outcome: string;
        try {
          const result = await decryptSops({ name: `${file}#${i}`, content: mutant, format }, keys);
          const same = renderSops(result, "json") === plain;
          if (!same) sameValues(result, decrypted, encrypted);
          outcome = same ? "same plaintext" : "a clear value's key renamed";
        } catch (err: unknown) {
          if (!isGuardError(err)) {
            throw new Error(`mutant ${i} of ${file} threw ${String(err)}`, { cause: err });
          }
          expect(err.message).toContain(`${file}#${i}`);
          outcome = err.code;
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      // Most flips must be caught; a few land where nothing reads them.
      const accepted =
        (outcomes.get("same plaintext") ?? 0) + (outcomes.get("a clear value's key renamed") ?? 0);
      const refused = MUTANTS_PER_FILE - accepted;
      expect(refused).toBeGreaterThan(MUTANTS_PER_FILE / 4);
    },
  );
});
