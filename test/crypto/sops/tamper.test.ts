/**
 * Tampered copies of real sops files are refused, each for the reason sops itself would give:
 * a changed or moved encrypted value fails AES-GCM (its key path is the AAD), and a change GCM
 * cannot see (order, unencrypted values, added or removed values) fails the MAC.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  decryptSops,
  toPlainValue,
  type SopsFormat,
  type SopsKeys,
} from "../../../src/crypto/sops/index.js";
import { ErrorCodes, GuardError, type ErrorCode } from "../../../src/errors.js";
import { fixtureText, identities } from "./fixtures.js";

let keys: SopsKeys;
beforeAll(async () => {
  keys = { age: await identities(["derived-test", "kc-age"]) };
});

const YAML = "derived-age/example.yaml";
const JSON_FILE = "derived-age/example.json";
const ENV = "kc/envs-env.env";
const INI = "derived-age/example.ini";
const BINARY = "derived-age/example.txt.json";

function replaced(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`tamper pattern ${String(from)} did not match`);
  return out;
}

/** Swaps the first occurrences of two whole lines (each identified by a unique prefix). */
function swapLines(text: string, first: RegExp, second: RegExp): string {
  const lines = text.split("\n");
  const a = lines.findIndex((l) => first.test(l));
  const b = lines.findIndex((l) => second.test(l));
  if (a < 0 || b < 0) throw new Error("swap pattern did not match");
  [lines[a], lines[b]] = [lines[b] ?? "", lines[a] ?? ""];
  return lines.join("\n");
}

/** Changes one base64 character in the data field of the first ENC value after marker. */
function flipData(text: string, marker: string): string {
  const at = text.indexOf(marker);
  const start = text.indexOf("data:", at) + "data:".length;
  if (at < 0) throw new Error(`no ${marker}`);
  const old = text.charAt(start);
  return text.slice(0, start) + (old === "A" ? "B" : "A") + text.slice(start + 1);
}

async function refused(name: string, content: string, format: SopsFormat): Promise<GuardError> {
  const input = { name, content, format };
  const err: unknown = await decryptSops(input, keys).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof GuardError))
    throw new Error(`not refused with a GuardError: ${String(err)}`);
  expect(err.message).toContain(name);
  return err;
}

async function expectRefused(
  text: string,
  code: ErrorCode,
  format: SopsFormat = "yaml",
): Promise<string> {
  const err = await refused("tampered", text, format);
  expect(err.code).toBe(code);
  return err.message;
}

describe("tampered YAML", () => {
  const original = (): string => fixtureText(YAML);

  it("the untouched file decrypts", async () => {
    const result = await decryptSops({ name: YAML, content: original() }, keys);
    expect(toPlainValue(result.documents[0]!)).toMatchObject({ myapp1: "t00m4nys3cr3tzupdated" });
  });

  it("a byte flipped in an encrypted value fails GCM and names the key path", async () => {
    const message = await expectRefused(
      flipData(original(), "myapp1:"),
      ErrorCodes.SOPS_VALUE_INVALID,
    );
    expect(message).toContain('"myapp1"');
    expect(message).not.toContain("t00m4nys3cr3t");
  });

  it("a renamed key fails GCM: the path is the value's AAD", async () => {
    const message = await expectRefused(
      replaced(original(), /^myapp1:/m, "myapp2:"),
      ErrorCodes.SOPS_VALUE_INVALID,
    );
    expect(message).toContain('"myapp2"');
  });

  it("values swapped between keys fail GCM", async () => {
    const text = original();
    const user = /^ {8}user: (.*)$/m.exec(text)?.[1] ?? "";
    const password = /^ {8}password: (.*)$/m.exec(text)?.[1] ?? "";
    const swapped = text.replace(`user: ${user}`, `user: ${password}`);
    await expectRefused(
      swapped.replace(`password: ${password}`, `password: ${user}`),
      ErrorCodes.SOPS_VALUE_INVALID,
    );
  });

  it("reordered list items pass GCM (same AAD) but fail the MAC", async () => {
    const text = original();
    const items = text.match(/^ {4}- ENC\[.*$/gm) ?? [];
    const swapped = text
      .replace(items[0] ?? "", "@@")
      .replace(items[1] ?? "", items[0] ?? "")
      .replace("@@", items[1] ?? "");
    const message = await expectRefused(swapped, ErrorCodes.SOPS_MAC_MISMATCH);
    expect(message).toContain("MAC mismatch");
  });

  it("reordered mapping entries fail the MAC", async () => {
    const swapped = swapLines(original(), /^ {8}user:/, /^ {8}password:/);
    await expectRefused(swapped, ErrorCodes.SOPS_MAC_MISMATCH);
  });

  it("a changed unencrypted value fails the MAC", async () => {
    const text = replaced(original(), "all elements of this list", "all elements of that list");
    await expectRefused(text, ErrorCodes.SOPS_MAC_MISMATCH);
  });

  it("an added unencrypted value fails the MAC", async () => {
    const text = replaced(original(), /^sops:/m, "added_unencrypted: 1\nsops:");
    await expectRefused(text, ErrorCodes.SOPS_MAC_MISMATCH);
  });

  it("a plaintext value where an encrypted one must be is refused without quoting it", async () => {
    const text = replaced(original(), /^sops:/m, "injected: hunter2\nsops:");
    const message = await expectRefused(text, ErrorCodes.SOPS_VALUE_INVALID);
    expect(message).toContain('"injected"');
    expect(message).not.toContain("hunter2");
  });

  it("a removed value fails the MAC", async () => {
    const text = original();
    const last = (text.match(/^ {4}- ENC\[.*$/gm) ?? [])[3] ?? "";
    await expectRefused(replaced(text, `${last}\n`, ""), ErrorCodes.SOPS_MAC_MISMATCH);
  });

  it("a changed MAC cannot be decrypted", async () => {
    const message = await expectRefused(
      flipData(original(), "    mac:"),
      ErrorCodes.SOPS_MAC_MISMATCH,
    );
    expect(message).toContain("MAC cannot be decrypted");
  });

  it("a MAC copied from another file under the same data key does not match", async () => {
    const text = original();
    const mac = /^ {4}mac: (.*)$/m.exec(text)?.[1] ?? "";
    const other = replaced(text, mac, mac.replace(/data:[^,]+/, "data:AAAA"));
    await expectRefused(other, ErrorCodes.SOPS_MAC_MISMATCH);
  });

  it("a changed lastmodified (the MAC's AAD) is refused", async () => {
    const text = replaced(
      original(),
      /lastmodified: "2025-08-06T18:55:05Z"/,
      'lastmodified: "2025-08-06T18:55:06Z"',
    );
    await expectRefused(text, ErrorCodes.SOPS_MAC_MISMATCH);
  });

  it("an emptied or removed MAC is refused", async () => {
    const text = original();
    const emptied = replaced(text, /^ {4}mac: .*$/m, '    mac: ""');
    await expectRefused(emptied, ErrorCodes.SOPS_MAC_MISSING);
    await expectRefused(replaced(text, /^ {4}mac: .*\n/m, ""), ErrorCodes.SOPS_MAC_MISSING);
  });

  it("a changed value type that no longer parses is refused", async () => {
    const text = replaced(original(), /(myapp1: ENC\[[^\]]*)type:str\]/, "$1type:int]");
    const message = await expectRefused(text, ErrorCodes.SOPS_VALUE_INVALID);
    expect(message).toContain("does not read as type int");
  });

  it("documents after the first without a sops block are still covered by one MAC", async () => {
    const text = `${original()}---\nextra_unencrypted: 1\n`;
    await expectRefused(text, ErrorCodes.SOPS_MAC_MISMATCH);
  });
});

describe("limits of the format, as in sops", () => {
  it("renaming the key of an unencrypted value is not covered by the MAC", async () => {
    const text = replaced(fixtureText(YAML), "            all: going", "            alx: going");
    const result = await decryptSops({ name: YAML, content: text }, keys);
    expect(toPlainValue(result.documents[0]!)).toMatchObject({
      nested_unencrypted: { this: { is: { alx: "going to remain in clear text" } } },
    });
  });

  it("a float relabelled as a string hashes the same text, so it passes", async () => {
    const text = replaced(
      fixtureText(JSON_FILE),
      /("age": "ENC\[[^\]]*)type:float\]/,
      "$1type:str]",
    );
    const result = await decryptSops({ name: JSON_FILE, content: text }, keys);
    expect(toPlainValue(result.documents[0]!)).toMatchObject({ age: "25.4" });
  });
});

describe("tampered JSON, dotenv, INI and binary files", () => {
  it("JSON: a flipped value fails GCM, reordered keys fail the MAC", async () => {
    const text = fixtureText(JSON_FILE);
    await expectRefused(flipData(text, '"lastName"'), ErrorCodes.SOPS_VALUE_INVALID, "json");
    const reordered = swapLines(text, /^\t"firstName"/, /^\t"lastName"/);
    await expectRefused(reordered, ErrorCodes.SOPS_MAC_MISMATCH, "json");
  });

  it("dotenv: a flipped value fails GCM, a changed MAC is refused", async () => {
    const text = fixtureText(ENV);
    await expectRefused(flipData(text, "key="), ErrorCodes.SOPS_VALUE_INVALID, "dotenv");
    await expectRefused(flipData(text, "sops_mac="), ErrorCodes.SOPS_MAC_MISMATCH, "dotenv");
    await expectRefused(
      replaced(text, /^sops_mac=.*$/m, "sops_mac="),
      ErrorCodes.SOPS_MAC_MISSING,
      "dotenv",
    );
  });

  it("INI: reordered keys fail the MAC, a flipped value fails GCM", async () => {
    const text = fixtureText(INI);
    await expectRefused(
      swapLines(text, /^firstName/, /^lastName/),
      ErrorCodes.SOPS_MAC_MISMATCH,
      "ini",
    );
    await expectRefused(flipData(text, "city"), ErrorCodes.SOPS_VALUE_INVALID, "ini");
  });

  it("binary: a flipped value fails GCM", async () => {
    await expectRefused(
      flipData(fixtureText(BINARY), '"data"'),
      ErrorCodes.SOPS_VALUE_INVALID,
      "binary",
    );
  });
});
