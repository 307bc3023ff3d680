/**
 * Format details: INI metadata as sops 3.13.0/3.13.1 wrote it, output in every format,
 * the SOPS markers, and what a file of the wrong shape is told.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  decryptSops,
  looksLikeSops,
  parseSopsFile,
  renderSops,
  toPlainValue,
  type SopsKeys,
} from "../../../src/crypto/sops/index.js";
import { ErrorCodes, isGuardError } from "../../../src/errors.js";
import { fixture, fixtureText, identities } from "./fixtures.js";

let keys: SopsKeys;
beforeAll(async () => {
  keys = { age: await identities(["derived-test", "kc-age"]) };
});

async function code(promise: Promise<unknown>): Promise<string> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return isGuardError(err) ? err.code : `not a GuardError: ${String(err)}`;
}

describe("formats", () => {
  it('INI metadata written as """ multi-line values (sops 3.13.0 and 3.13.1) is read', async () => {
    const file = "derived-age/functional-tests_res_format.enc.ini";
    const multiline = fixtureText(file).replace(
      /^(age__list_0__map_enc\s*=\s*)(.*)$/m,
      (_all, head: string, value: string) => `${head}"""${value.replaceAll("\\n", "\n")}"""`,
    );
    expect(multiline).toContain('"""-----BEGIN AGE ENCRYPTED FILE-----\n');
    const result = await decryptSops({ name: file, content: multiline }, keys);
    expect(toPlainValue(result.documents[0]!)).toEqual({ DEFAULT: {}, foo: { bar: "baz" } });
  });

  it("dotenv keys and values are not trimmed, as in sops", async () => {
    const file = "derived-age/functional-tests_res_format.enc.env";
    const result = await decryptSops({ name: file, content: fixture(file) }, keys);
    expect(renderSops(result)).toBe("foo = bar\n");
  });

  it("renders a file in its own format or in another", async () => {
    const ini = await decryptSops(
      { name: "x.ini", content: fixture("derived-age/example.ini") },
      keys,
    );
    expect(renderSops(ini)).toMatch(/^\[name\]\n; An example file.*\nfirstName = John\n/m);
    const yaml = await decryptSops(
      { name: "x.json", content: fixture("derived-age/example.json") },
      keys,
    );
    expect(renderSops(yaml, "yaml")).toContain("firstName: John\n");
    expect(renderSops(yaml, "yaml")).toContain("age: 25.4\n");
    const binary = await decryptSops({ name: "x", content: fixture("kc/files-file.txt") }, keys);
    expect(Buffer.from(renderSops(binary)).toString()).toBe("value");
    expect(renderSops(binary, "json")).toBe('{\n  "data": "value"\n}\n');
  });

  it("refuses output a format cannot hold", async () => {
    const json = await decryptSops(
      { name: "x.json", content: fixture("derived-age/example.json") },
      keys,
    );
    expect(() => renderSops(json, "dotenv")).toThrow(/cannot write the nested value of address/);
    const twoDocs = { format: "yaml" as const, documents: [...json.documents, ...json.documents] };
    expect(() => renderSops(twoDocs, "dotenv")).toThrow(/exactly one document/);
  });

  it("tells SOPS files from plain ones by their metadata, even with the MAC emptied", () => {
    expect(looksLikeSops(fixture("derived-age/example.yaml"), "yaml")).toBe(true);
    expect(looksLikeSops(fixture("derived-age/functional-tests_res_no_mac.yaml"), "yaml")).toBe(
      true,
    );
    expect(looksLikeSops(fixture("kc/inside-secret.yaml"), "yaml")).toBe(false);
    expect(looksLikeSops(fixture("kc/envs-env.env"), "dotenv")).toBe(true);
    expect(looksLikeSops(fixture("derived-age/example.ini"), "ini")).toBe(true);
    expect(looksLikeSops(fixture("derived-age/example.json"), "json")).toBe(true);
  });

  it("reads metadata without decrypting", () => {
    const parsed = parseSopsFile({ name: "x.yaml", content: fixture("derived-age/example.yaml") });
    expect(parsed.metadata.version).toBe("3.10.2");
    expect(parsed.metadata.rule).toEqual({ name: "unencrypted_suffix", value: "_unencrypted" });
    expect(parsed.metadata.keyGroups[0]?.map((k) => k.type)).toEqual(["pgp", "pgp", "age"]);
  });

  it.each([
    ["a YAML syntax error", "a: [1\n", "yaml", ErrorCodes.SOPS_INPUT_INVALID],
    ["a YAML sequence document", "- a\n", "yaml", ErrorCodes.SOPS_INPUT_INVALID],
    ["an unquoted numeric key", "2024: x\nsops: {}\n", "yaml", ErrorCodes.SOPS_INPUT_INVALID],
    ["a JSON array", "[1]", "json", ErrorCodes.SOPS_INPUT_INVALID],
    ["no metadata", "a: b\n", "yaml", ErrorCodes.SOPS_METADATA_MISSING],
    ["metadata without keys", "a: b\nsops:\n  mac: x\n", "yaml", ErrorCodes.SOPS_METADATA_INVALID],
    [
      "two encryption rules",
      "sops:\n  age: [{recipient: r, enc: e}]\n  encrypted_regex: a\n  unencrypted_suffix: b\n",
      "yaml",
      ErrorCodes.SOPS_METADATA_INVALID,
    ],
    ["a dotenv line without =", "A\n", "dotenv", ErrorCodes.SOPS_INPUT_INVALID],
    ["bytes that are not UTF-8", "\u00ff", "binary", ErrorCodes.SOPS_INPUT_INVALID],
  ] as const)("%s is refused", async (_what, text, format, expected) => {
    const content = text === "\u00ff" ? Buffer.from([0xff, 0xfe]) : text;
    expect(await code(decryptSops({ name: "bad", content, format }, keys))).toBe(expected);
  });
});
