import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { delimiter, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generateSealingKey } from "../../src/crypto/sealing/keygen.js";
import { gitopsGuard, secretYaml, workdir } from "./harness.js";

const root = resolve(import.meta.dirname, "../..");
const bin = resolve(root, "node_modules/.bin");
const recorder = resolve(import.meta.dirname, "fixtures/record-modules.mjs");
const files = workdir("startup");
let certFile: string;
let keyFile: string;

beforeAll(async () => {
  const key = await generateSealingKey({ now: Date.now(), bits: 2048 });
  certFile = files.write("cert.pem", key.certificatePem);
  keyFile = files.write("key.pem", key.privateKeyPem);
});

/** Runs the real executable (Node 24, tsx) on `input`; returns the npm packages it loaded. */
function packagesLoaded(name: string, args: string[], input: string): Set<string> {
  const log = files.path(`${name}.log`);
  const result = spawnSync(
    "node",
    ["--import", recorder, "--import", "tsx", "src/cli/bin.ts", ...args],
    {
      cwd: root,
      input,
      encoding: "utf8",
      env: {
        ...process.env,
        GG_MODULE_LOG: log,
        PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`,
      },
    },
  );
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const urls = readFileSync(log, "utf8").split("\n");
  return new Set(urls.flatMap((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []));
}

const HEAVY = ["@kubernetes/client-node", "ajv", "node-forge"];

describe("start-up of the offline commands", () => {
  it("seal of JSON loads neither the Kubernetes client, ajv, node-forge nor the YAML parser", () => {
    const json = JSON.stringify({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "a", namespace: "b" },
      stringData: { k: "v" },
    });
    const loaded = packagesLoaded("json", ["seal", "--cert", certFile], json);
    expect(loaded.has("commander")).toBe(true);
    for (const heavy of [...HEAVY, "yaml"]) expect(loaded.has(heavy), heavy).toBe(false);
  });

  it("seal of YAML and unseal load the YAML parser, and still not the Kubernetes client", async () => {
    const yaml = secretYaml("a", "b", { k: "v" });
    const sealing = packagesLoaded("yaml", ["seal", "--cert", certFile, "-o", "yaml"], yaml);
    expect(sealing.has("yaml")).toBe(true);
    for (const heavy of HEAVY) expect(sealing.has(heavy), heavy).toBe(false);
    const sealed = await gitopsGuard(["seal", "--cert", certFile, "-o", "yaml"], { stdin: yaml });
    const unsealing = packagesLoaded("unseal", ["unseal", "--private-key", keyFile], sealed.out);
    for (const heavy of HEAVY) expect(unsealing.has(heavy), heavy).toBe(false);
  });
});
