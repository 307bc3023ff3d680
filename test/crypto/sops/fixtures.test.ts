/**
 * Every real sops file in test/fixtures/sops: the ones our keys open decrypt to the expected
 * plaintext with the MAC recomputed and verified; the rest are refused for the right reason.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  decryptSops,
  toPlainValue,
  type AgeIdentity,
  type SopsKeys,
} from "../../../src/crypto/sops/index.js";
import { ErrorCodes, GuardError } from "../../../src/errors.js";
import { parse as parseYaml } from "yaml";
import { allFixtureFiles, expectations, fixture, identities } from "./fixtures.js";

let keys: SopsKeys;
let all: AgeIdentity[];

beforeAll(async () => {
  all = await identities();
  keys = { age: all };
});

async function refusal(promise: Promise<unknown>): Promise<GuardError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof GuardError)) throw new Error(`expected a GuardError, got ${String(err)}`);
  return err;
}

const PGP_ONLY = [
  "kc/algorithms-pgp.yaml",
  "kc-history/day.txt.encrypted-3.6.0.pgp.json",
  "kc-history/month-3.7.1.pgp.yaml",
  "kc-history/secret.pgp.v1-3.7.0.yaml",
  "kc-history/secret.pgp.v2-3.7.0.yaml",
];
const WITHOUT_EXPECTED = ["kc/algorithms-age-pq.yaml", "derived-age/kc-algorithms-pgp.yaml"];
const NO_MAC = "derived-age/functional-tests_res_no_mac.yaml";
const NOT_SOPS = "kc/inside-secret.yaml";

describe("real sops fixtures", () => {
  it.each(expectations().map((e) => [e.file, e] as const))(
    "%s decrypts to its expected plaintext, MAC verified",
    async (file, expected) => {
      expect(expected.mac_ok).toBe(true);
      const result = await decryptSops({ name: file, content: fixture(file) }, keys);
      expect(result.mac).toBe(expected.mac_stored);
      expect(result.mac).toBe(expected.mac_computed);
      expect(result.documents).toHaveLength(1);
      expect(toPlainValue(result.documents[0]!)).toEqual(expected.data);
      expect(result.openedBy[0]).toMatch(/^age:age1/);
    },
  );

  it("opens the post-quantum age file (age1pq1…) with its PQ identity alone", async () => {
    const pq = await identities(["kc-age-pq"]);
    expect(pq[0]?.recipient).toMatch(/^age1pq1/);
    const file = "kc/algorithms-age-pq.yaml";
    const result = await decryptSops({ name: file, content: fixture(file) }, { age: pq });
    expect(toPlainValue(result.documents[0]!)).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "age-pq" },
      stringData: { key: "value" },
    });
  });

  it("opens the derived copy of Flux's PGP test file with the added age key", async () => {
    const file = "derived-age/kc-algorithms-pgp.yaml";
    const result = await decryptSops({ name: file, content: fixture(file) }, keys);
    expect(toPlainValue(result.documents[0]!)).toMatchObject({ kind: "Secret" });
  });

  it("refuses the MAC-less file", async () => {
    const err = await refusal(decryptSops({ name: NO_MAC, content: fixture(NO_MAC) }, keys));
    expect(err.code).toBe(ErrorCodes.SOPS_MAC_MISSING);
    expect(err.message).toContain(NO_MAC);
  });

  it.each(PGP_ONLY)("refuses %s (PGP only) and names the PGP key", async (file) => {
    const err = await refusal(decryptSops({ name: file, content: fixture(file) }, keys));
    expect(err.code).toBe(ErrorCodes.SOPS_NO_KEY);
    expect(err.message).toMatch(/pgp:[0-9A-F]{40}: pgp keys are not supported/);
    expect(err.message).toContain(file);
  });

  it("says a plain Secret is not SOPS, and opens the SOPS JSON inside its data", async () => {
    const err = await refusal(decryptSops({ name: NOT_SOPS, content: fixture(NOT_SOPS) }, keys));
    expect(err.code).toBe(ErrorCodes.SOPS_METADATA_MISSING);
    const secret = parseYaml(fixture(NOT_SOPS).toString("utf8")) as { data: { key: string } };
    const inner = Buffer.from(secret.data.key, "base64");
    const result = await decryptSops({ name: "data.key", content: inner, format: "json" }, keys);
    const expected = expectations().find((e) => e.file === "kc/inside-secret.data.key.json");
    expect(toPlainValue(result.documents[0]!)).toEqual(expected?.data);
  });

  it("names the recipient and the reason when no local key opens the file", async () => {
    const file = "kc/algorithms-age.yaml";
    const age = await identities(["derived-test"]);
    const err = await refusal(decryptSops({ name: file, content: fixture(file) }, { age }));
    expect(err.code).toBe(ErrorCodes.SOPS_NO_KEY);
    expect(err.message).toContain(
      "age:age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29: no local identity",
    );
    expect(err.details).toMatchObject({ file, attempts: [{ opened: false }] });
  });

  it("covers every fixture file", () => {
    const covered = new Set([
      ...expectations().map((e) => e.file),
      ...PGP_ONLY,
      ...WITHOUT_EXPECTED,
      NO_MAC,
      NOT_SOPS,
    ]);
    expect(allFixtureFiles().filter((file) => !covered.has(file))).toEqual([]);
  });
});
