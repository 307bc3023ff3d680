/**
 * `gitops-guard sops decrypt|check`, run in-process through runCli with the environment and
 * output the CLI is given, on real sops files.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run-cli.js";
import { FIXTURES } from "../crypto/sops/fixtures.js";
import { GO_TOOL_BUILD_TIMEOUT_MS, realSops, type RealSops } from "../crypto/sops/real-sops.js";

const KEY = `${FIXTURES}keys/derived-test.agekey`;
const KC_KEY = `${FIXTURES}keys/kc-age.agekey`;
const YAML = `${FIXTURES}derived-age/example.yaml`;
const BINARY = `${FIXTURES}kc/files-file.txt`;

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

async function gg(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  let out = "";
  let err = "";
  const code = await runCli(["node", "gitops-guard", ...args], {
    env,
    hostname: "test-host",
    run: () => Promise.resolve(),
    output: { writeOut: (t) => (out += t), writeErr: (t) => (err += t) },
  });
  return { code, out, err };
}

let sops: RealSops;
let multiDoc: string;
let scratch: string;

beforeAll(async () => {
  sops = realSops();
  const recipient = /public key: (age1[0-9a-z]+)/.exec(readFileSync(KEY, "utf8"))?.[1] ?? "";
  const plain = sops.write("multi.yaml", "a: 1\nbig: 9007199254740993\n---\nb: two\n");
  multiDoc = sops.write("multi.enc.yaml", await sops.run(["-e", "--age", recipient, plain]));
  scratch = mkdtempSync(join(tmpdir(), "gg-sops-cli-"));
}, GO_TOOL_BUILD_TIMEOUT_MS);

afterAll(() => {
  sops.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe("gitops-guard sops decrypt", () => {
  it("prints a YAML file decrypted, in YAML", async () => {
    const run = await gg(["sops", "decrypt", YAML, "--age-key-file", KEY]);
    expect(run).toMatchObject({ code: 0, err: "" });
    expect(run.out).toContain("myapp1: t00m4nys3cr3tzupdated");
    expect(run.out).toContain("# sops supports unencrypted fields");
  });

  it("prints every document of a multi-document file as a JSON array, integers exact", async () => {
    const run = await gg(["sops", "decrypt", multiDoc, "-o", "json", "--age-key-file", KEY]);
    expect(run.code).toBe(0);
    expect(run.out).toContain('"big": 9007199254740993');
    expect(JSON.parse(run.out.replace("9007199254740993", '"big"'))).toEqual([
      { a: 1, big: "big" },
      { b: "two" },
    ]);
  });

  it("takes keys from SOPS_AGE_KEY_FILE and SOPS_AGE_KEY in the environment it is given", async () => {
    const byFile = await gg(["sops", "decrypt", YAML], { SOPS_AGE_KEY_FILE: KEY });
    expect(byFile.code).toBe(0);
    const byValue = await gg(["sops", "decrypt", YAML], {
      SOPS_AGE_KEY: readFileSync(KEY, "utf8"),
    });
    expect(byValue.out).toBe(byFile.out);
  });

  it("refuses a file without a MAC, naming it", async () => {
    const file = `${FIXTURES}derived-age/functional-tests_res_no_mac.yaml`;
    const run = await gg(["sops", "decrypt", file, "--age-key-file", KEY]);
    expect(run.code).toBe(1);
    expect(run.out).toBe("");
    expect(run.err).toContain(`error GG_SOPS_MAC_MISSING: ${file}: the file has no MAC`);
  });

  it("says which key failed when none opens the file", async () => {
    const run = await gg(["sops", "decrypt", YAML, "--age-key-file", KC_KEY]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(
      /GG_SOPS_NO_KEY: .*age:age1s3s9d3fzdqlt.*: no local identity for this recipient/,
    );
  });

  it("rejects a malformed key file without printing its content", async () => {
    const bad = join(scratch, "bad.agekey");
    writeFileSync(bad, "AGE-SECRET-KEY-1NOTAKEY\n");
    const run = await gg(["sops", "decrypt", YAML, "--age-key-file", bad]);
    expect(run.err).toContain(`GG_SOPS_AGE_KEY_INVALID: ${bad}: key 1 is not an age identity`);
    expect(run.err).not.toContain("NOTAKEY");
  });

  it("names a missing input file", async () => {
    const run = await gg(["sops", "decrypt", join(scratch, "absent.yaml"), "--age-key-file", KEY]);
    expect(run.err).toContain("GG_SOPS_INPUT_INVALID: file");
    expect(run.err).toContain("no such file");
  });

  it("writes binary files with --out, readable by the owner only", async () => {
    const out = join(scratch, "file.txt");
    const run = await gg(["sops", "decrypt", BINARY, "--age-key-file", KC_KEY, "--out", out]);
    expect(run).toMatchObject({ code: 0, out: "" });
    expect(readFileSync(out, "utf8")).toBe("value");
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });
});

describe("gitops-guard sops check", () => {
  it("lists the recipients and which local keys open them", async () => {
    const run = await gg(["sops", "check", YAML, "--age-key-file", KEY]);
    expect(run.code).toBe(0);
    expect(run.out).toContain("can be decrypted with the local keys");
    expect(run.out).toMatch(/age:age1s3s9d3fzdqlt\S*: opens/);
    expect(run.out).toMatch(
      /pgp:FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4: does not open: pgp keys are not supported/,
    );
  });

  it("fails when no local key opens the file, and prints JSON on request", async () => {
    const run = await gg(["sops", "check", YAML, "--json"], { SOPS_AGE_KEY_FILE: KC_KEY });
    expect(run.code).toBe(1);
    expect(run.err).toContain("GG_SOPS_NO_KEY");
    const check = JSON.parse(run.out) as {
      canDecrypt: boolean;
      keys: { key: string; opened: boolean }[];
    };
    expect(check.canDecrypt).toBe(false);
    expect(check.keys.map((k) => k.opened)).toEqual([false, false, false]);
  });
});

describe("start-up cost", () => {
  it("the sops command and library load neither the Kubernetes client nor, eagerly, the AWS SDK", () => {
    const sources = [
      ...["src/cli/sops.ts", "src/cli/sops-run.ts"],
      ...readdirSync("src/crypto/sops").map((f) => `src/crypto/sops/${f}`),
    ];
    for (const file of sources) {
      const text = readFileSync(file, "utf8");
      expect(text, file).not.toContain("@kubernetes/client-node");
      expect(text, file).not.toMatch(/^import [^;]*from "@aws-sdk/m);
    }
  });
});
