/**
 * The decryption Secret's sops.aws-kms entry is text anyone with write access to the Secret
 * controls. Seeded mutations of a valid entry (byte flips, cuts, YAML punctuation spliced in):
 * each is either read as credentials (strings only) or refused with RENDER_SOPS_FAILED naming
 * the Secret; never another exception, and never a message quoting the secret key.
 */
import { describe, expect, it } from "vitest";
import { decryptionKeys } from "../../src/reconciler/render/decryption-secret.js";
import { ErrorCodes, isGuardError } from "../../src/errors.js";
import { Rng } from "../admission/fuzz-mutations.js";

const SEED = 0x5eed_4a3;
const MUTANTS = 3_000;
const SECRET_KEY = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY";
const VALID = `aws_access_key_id: AKIAIOSFODNN7EXAMPLE\naws_secret_access_key: ${SECRET_KEY}\naws_session_token: FwoGZXIvYXdzEXAMPLE\n`;
const SPLICES = [
  ":",
  "- ",
  "{",
  "}",
  "[",
  "]",
  "&a ",
  "*a",
  "!!binary ",
  "? ",
  "|\n",
  '"',
  "'",
  "\t",
  "#",
  "\n  ",
];

function mutate(rng: Rng): string {
  const bytes = Buffer.from(VALID);
  switch (rng.int(3)) {
    case 0: {
      for (let i = 0, n = 1 + rng.int(3); i < n; i++) {
        const at = rng.int(bytes.length);
        bytes[at] = (bytes[at] ?? 0) ^ (1 + rng.int(255));
      }
      return bytes.toString("latin1");
    }
    case 1:
      return VALID.slice(0, rng.int(VALID.length));
    default: {
      const at = rng.int(VALID.length);
      return VALID.slice(0, at) + rng.pick(SPLICES) + VALID.slice(at);
    }
  }
}

describe("sops.aws-kms fuzz", () => {
  it(`reads or refuses ${String(MUTANTS)} mutated entries (seed ${String(SEED)}), never leaking the key`, async () => {
    const rng = new Rng(SEED);
    let read = 0;
    let refused = 0;
    for (let i = 0; i < MUTANTS; i++) {
      const text = mutate(rng);
      const data = { "sops.aws-kms": Buffer.from(text, "latin1").toString("base64") };
      try {
        const keys = await decryptionKeys("apps/kms", data, false);
        expect(typeof keys.aws?.accessKeyId).toBe("string");
        expect(typeof keys.aws?.secretAccessKey).toBe("string");
        read++;
      } catch (err: unknown) {
        if (!isGuardError(err, ErrorCodes.RENDER_SOPS_FAILED)) {
          throw new Error(`mutant ${String(i)} threw something else: ${String(err)}`, {
            cause: err,
          });
        }
        expect(err.message).toMatch(/^Secret apps\/kms /);
        expect(err.message).not.toContain(SECRET_KEY.slice(8, 24));
        refused++;
      }
    }
    // Both outcomes occur: the mutations reach the parser, not only its first check.
    expect(read).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });
});
