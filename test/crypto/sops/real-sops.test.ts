/**
 * Files written just now by the real sops 3.13.3 with age keys, in every format and with the
 * settings that change what is encrypted or hashed, open with our decryptor with the MAC
 * verified and give the plaintext sops itself gives.
 */
import { generateHybridIdentity, generateX25519Identity } from "age-encryption";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decryptSops,
  parseAgeIdentities,
  renderSops,
  toPlainValue,
  type AgeIdentity,
  type SopsFormat,
} from "../../../src/crypto/sops/index.js";
import { ErrorCodes, isGuardError } from "../../../src/errors.js";
import { exactJson, GO_TOOL_BUILD_TIMEOUT_MS, realSops, type RealSops } from "./real-sops.js";

let sops: RealSops;
let ids: AgeIdentity[];
let keyFile: string;

beforeAll(async () => {
  sops = realSops();
  const secrets = [
    await generateX25519Identity(),
    await generateX25519Identity(),
    await generateX25519Identity(),
  ];
  ids = await parseAgeIdentities(secrets.join("\n"), "generated");
  keyFile = sops.write("keys.txt", `${secrets.join("\n")}\n`);
}, GO_TOOL_BUILD_TIMEOUT_MS);

afterAll(() => {
  sops.close();
});

const recipient = (i: number): string => ids[i]?.recipient ?? "";

async function encrypt(
  name: string,
  plain: string | Uint8Array,
  flags: readonly string[] = [],
): Promise<Buffer> {
  const path = sops.write(name, plain);
  return sops.run(["-e", "--age", recipient(0), ...flags, path]);
}

async function sopsDecrypt(
  encrypted: Buffer,
  name: string,
  outputType: SopsFormat,
): Promise<Buffer> {
  const path = sops.write(`${name}.enc`, encrypted);
  const type = name
    .replace(/^.*\./, "")
    .replace("env", "dotenv")
    .replace("txt", "binary")
    .replace("yml", "yaml");
  return sops.run(["decrypt", "--input-type", type, "--output-type", outputType, path], {
    SOPS_AGE_KEY_FILE: keyFile,
  });
}

async function ours(encrypted: Buffer, name: string, age = ids) {
  return decryptSops({ name, content: encrypted }, { age });
}

const TYPED_YAML = `# typed values and traps
"2": two
"10": ten
"1": one
big: 9007199254740993
max: 9223372036854775807
min: -9223372036854775808
huge: 123456789012345678901234567890
hex: 0x1F
octal: 0o17
float: 1.5
whole_float: 2.0
tiny: 1e-7
yes_string: yes
bool: true
nothing: null
empty: ""
day: 2024-01-01
stamp: 2024-01-01T10:00:00.5+02:00
quoted_day: "2024-01-01"
unicode: "héllo wörld ✓ 🎉"
multi: |
  line one
  line two
list:
  - a # inline
  # between
  - 1
  - {nested: true}
nested_unencrypted:
  port: 5432
  when: 2024-06-01
---
kind: Secret
stringData:
  password: s3cr3t
---
third: doc
`;

describe("files written by the real sops", () => {
  it("YAML, three documents, typed values: exact integers, key order, times, comments", async () => {
    const encrypted = await encrypt("typed.yaml", TYPED_YAML);
    const result = await ours(encrypted, "typed.yaml");
    expect(result.documents).toHaveLength(3);
    const [first, second, third] = result.documents.map((doc) => toPlainValue(doc));
    expect(first).toEqual({
      "2": "two",
      "10": "ten",
      "1": "one",
      big: 9007199254740993n,
      max: 9223372036854775807n,
      min: -9223372036854775808n,
      huge: 1.2345678901234568e29,
      hex: 31,
      octal: 15,
      float: 1.5,
      whole_float: 2,
      tiny: 1e-7,
      yes_string: "yes",
      bool: true,
      nothing: null,
      empty: "",
      day: "2024-01-01T00:00:00Z",
      stamp: "2024-01-01T10:00:00.5+02:00",
      quoted_day: "2024-01-01",
      unicode: "héllo wörld ✓ 🎉",
      multi: "line one\nline two\n",
      list: ["a", 1, { nested: true }],
      nested_unencrypted: { port: 5432, when: "2024-06-01T00:00:00Z" },
    });
    expect(second).toEqual({ kind: "Secret", stringData: { password: "s3cr3t" } });
    expect(third).toEqual({ third: "doc" });
    // sops prints the first document only; ours prints them all, the first identical.
    const json = renderSops(result, "json") as string;
    const sopsJson = (await sopsDecrypt(encrypted, "typed.yaml", "json")).toString("utf8");
    expect((exactJson(json) as unknown[])[0]).toEqual(exactJson(sopsJson));
    expect(json).toContain('"big": 9007199254740993');
    // The file's key order, which sops keeps and JSON.parse would not ("1" first).
    const order = (text: string): number[] => ['"2"', '"10"', '"1"'].map((k) => text.indexOf(k));
    expect(order(json)).toEqual([...order(json)].sort((a, b) => a - b));
    expect(order(sopsJson)).toEqual([...order(sopsJson)].sort((a, b) => a - b));
  });

  it("YAML output keeps the comments and reads back to the same values", async () => {
    const result = await ours(await encrypt("typed2.yaml", TYPED_YAML), "typed2.yaml");
    const text = renderSops(result, "yaml") as string;
    expect(text).toContain("# typed values and traps");
    expect(text).toContain("# between");
    const reread = parseAllDocuments(text, { version: "1.1", intAsBigInt: true }).map(
      (d) => d.toJS() as unknown,
    );
    expect(reread).toHaveLength(3);
    expect(reread[0]).toMatchObject({ big: 9007199254740993n, yes_string: "yes", whole_float: 2 });
  });

  it("JSON: integers above 2^53 and key order survive byte for byte", async () => {
    const plain =
      '{"b": 1, "2": 9007199254740993, "a": [1, 2.5, true, null, {"x": 18446744073709551616}], "neg": -9223372036854775808, "f": 1.0, "s": "x"}';
    const encrypted = await encrypt("numbers.json", plain);
    const result = await ours(encrypted, "numbers.json");
    const json = renderSops(result) as string;
    expect(exactJson(json)).toEqual(
      exactJson((await sopsDecrypt(encrypted, "numbers.json", "json")).toString("utf8")),
    );
    expect(json).toContain('"2": 9007199254740993');
    expect(json).toContain('"neg": -9223372036854775808');
    expect(json.indexOf('"b"')).toBeLessThan(json.indexOf('"2"'));
  });

  it("dotenv: prints exactly what sops prints", async () => {
    const plain = 'A=1\nB=with spaces \nC=a\\nb\n#a comment\nD="quoted"\nE=\n';
    const encrypted = await encrypt("app.env", plain);
    const result = await ours(encrypted, "app.env");
    expect(Buffer.from(renderSops(result) as string)).toEqual(
      await sopsDecrypt(encrypted, "app.env", "dotenv"),
    );
    expect(toPlainValue(result.documents[0]!)).toEqual({
      A: "1",
      B: "with spaces ",
      C: "a\nb",
      D: '"quoted"',
      E: "",
    });
  });

  it("INI: sections and values as sops reads them", async () => {
    const plain = '; head\n[section]\nkey = value\nother: x ; inline\n[s2]\nk = "quoted"\n';
    const encrypted = await encrypt("app.ini", plain);
    const result = await ours(encrypted, "app.ini");
    const fromSops = exactJson((await sopsDecrypt(encrypted, "app.ini", "json")).toString("utf8"));
    expect(exactJson(renderSops(result, "json") as string)).toEqual(fromSops);
  });

  it("binary: arbitrary bytes, not UTF-8, come back byte for byte", async () => {
    const bytes = new Uint8Array(1024).map((_, i) => (i * 131 + 7) % 256);
    const encrypted = await encrypt("blob.bin", bytes);
    const result = await ours(encrypted, "blob.bin");
    expect(Buffer.from(renderSops(result))).toEqual(Buffer.from(bytes));
  });

  it("encrypted_regex for Kubernetes Secrets: only data and stringData are encrypted", async () => {
    const plain =
      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  a: b\ndata:\n  c: ZA==\n";
    const encrypted = await encrypt("secret.yaml", plain, [
      "--encrypted-regex",
      "^(data|stringData)$",
    ]);
    expect(encrypted.toString()).toContain("name: s");
    const result = await ours(encrypted, "secret.yaml");
    expect(toPlainValue(result.documents[0]!)).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      stringData: { a: "b" },
      data: { c: "ZA==" },
    });
  });

  it("encrypted_comment_regex and unencrypted_comment_regex", async () => {
    const plain =
      "# sops:enc\nsecret: value\nplain: visible\nlist:\n  # sops:enc\n  - hidden\n  - shown\n";
    const expected = { secret: "value", plain: "visible", list: ["hidden", "shown"] };
    for (const flag of ["--encrypted-comment-regex", "--unencrypted-comment-regex"]) {
      const encrypted = await encrypt(`comments${flag}.yaml`, plain, [flag, "sops:enc"]);
      const result = await ours(encrypted, `comments${flag}.yaml`);
      expect(toPlainValue(result.documents[0]!)).toEqual(expected);
    }
  });

  it("mac_only_encrypted: the MAC covers encrypted values only, and the flag cannot be flipped", async () => {
    const plain = "secret: value\nport_unencrypted: 5432\n";
    const encrypted = (await encrypt("maconly.yaml", plain, ["--mac-only-encrypted"])).toString();
    expect(encrypted).toContain("mac_only_encrypted: true");
    const relaxed = encrypted.replace("port_unencrypted: 5432", "port_unencrypted: 5433");
    const result = await ours(Buffer.from(relaxed), "maconly.yaml");
    expect(toPlainValue(result.documents[0]!)).toEqual({ secret: "value", port_unencrypted: 5433 });
    const flipped = encrypted.replace(/^ {4}mac_only_encrypted: true\n/m, "");
    const err: unknown = await ours(Buffer.from(flipped), "maconly.yaml").catch((e: unknown) => e);
    expect(isGuardError(err, ErrorCodes.SOPS_MAC_MISMATCH)).toBe(true);
  });

  it("several age recipients: any one of them opens the file", async () => {
    const encrypted = await sops.run([
      "-e",
      "--age",
      `${recipient(0)},${recipient(2)}`,
      sops.write("two.yaml", "a: b\n"),
    ]);
    const third = ids[2];
    if (third === undefined) throw new Error("no third identity");
    const result = await ours(encrypted, "two.yaml", [third]);
    expect(result.openedBy).toEqual([`age:${third.recipient}`]);
  });

  it("a post-quantum age recipient (age1pq1…)", async () => {
    const pq = await parseAgeIdentities(await generateHybridIdentity(), "pq");
    const encrypted = await sops.run([
      "-e",
      "--age",
      pq[0]?.recipient ?? "",
      sops.write("pq.yaml", "k: v\n"),
    ]);
    const result = await ours(encrypted, "pq.yaml", pq);
    expect(toPlainValue(result.documents[0]!)).toEqual({ k: "v" });
  });

  it("Shamir key groups: two of three groups open it, one does not", async () => {
    const config = [
      "creation_rules:",
      "  - path_regex: .*",
      "    shamir_threshold: 2",
      "    key_groups:",
      ...[0, 1, 2].map((i) => `      - age: ["${recipient(i)}"]`),
      "",
    ].join("\n");
    // In its own folder: sops would find this config from every later run in the main one.
    const configPath = sops.write("shamir/.sops.yaml", config);
    const path = sops.write("shamir/shamir.yaml", "team: secret\n");
    const encrypted = await sops.run(
      ["-e", "--config", configPath, path],
      {},
      `${sops.dir}/shamir`,
    );
    expect(encrypted.toString()).toContain("key_groups:");
    const two = [ids[0], ids[2]].filter((id) => id !== undefined);
    const result = await ours(encrypted, "shamir.yaml", two);
    expect(toPlainValue(result.documents[0]!)).toEqual({ team: "secret" });
    expect(result.openedBy).toHaveLength(2);
    const err: unknown = await ours(encrypted, "shamir.yaml", ids.slice(0, 1)).catch(
      (e: unknown) => e,
    );
    expect(isGuardError(err, ErrorCodes.SOPS_NO_KEY)).toBe(true);
    expect((err as Error).message).toContain("1 of 3 key groups opened, 2 needed");
  });

  it("swapping two documents of a multi-document file fails the MAC", async () => {
    const encrypted = (await encrypt("docs.yaml", "a: 1\n---\nb: 2\n---\nc: 3\n")).toString();
    const [one, two, three] = encrypted.split(/^---\n/m);
    const swapped = [one, three, two].join("---\n");
    const err: unknown = await ours(Buffer.from(swapped), "docs.yaml").catch((e: unknown) => e);
    expect(isGuardError(err, ErrorCodes.SOPS_MAC_MISMATCH)).toBe(true);
  });
});
