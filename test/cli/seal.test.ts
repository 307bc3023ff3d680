import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocuments } from "../../src/cli/documents.js";
import { runCli } from "../../src/cli/run-cli.js";
import { Keyring } from "../../src/crypto/sealing/keyring.js";
import { generateSealingKey, type GeneratedKey } from "../../src/crypto/sealing/keygen.js";
import { keySecret } from "../../src/crypto/sealing/key-secret.js";
import { readSealedSecret } from "../../src/crypto/sealing/sealed-secret.js";
import { unsealSealedSecret } from "../../src/crypto/sealing/unseal.js";
import { decodeBase64 } from "../../src/crypto/sealing/base64.js";
import { splitSealedValue } from "../../src/crypto/sealing/hybrid.js";
import { gitopsGuard, secretYaml, workdir } from "./harness.js";

const HOUR = 3_600_000;
const files = workdir("seal");
let key: GeneratedKey;
let certFile: string;
let keyFile: string;

beforeAll(async () => {
  key = await generateSealingKey({ now: Date.now() - HOUR });
  certFile = files.write("cert.pem", key.certificatePem);
  keyFile = files.write("key.pem", key.privateKeyPem);
});

/** Opens every SealedSecret in a CLI output with the test key. */
async function opened(text: string): Promise<Record<string, Record<string, string>>> {
  const ring = new Keyring([key.key]);
  const out: Record<string, Record<string, string>> = {};
  for (const doc of await parseDocuments(text, "output")) {
    const ss = readSealedSecret(doc, "output");
    const { values } = unsealSealedSecret(ss, { keyring: ring });
    out[`${ss.metadata.namespace ?? ""}/${ss.metadata.name}`] = Object.fromEntries(
      [...values].map(([k, v]) => [k, v.toString()]),
    );
  }
  return out;
}

describe("gitops-guard seal", () => {
  it("seals a multi-document YAML stream from stdin into kubeseal-style JSON", async () => {
    const stdin =
      secretYaml("db", "prod", { password: "hunter2" }) +
      "---\n" +
      secretYaml("api", "prod", { token: "t0k" });
    const result = await gitopsGuard(["seal", "--cert", certFile], { stdin });
    expect(result).toMatchObject({ code: 0, err: "" });
    expect(
      result.out.startsWith(
        '{\n  "apiVersion": "gitops-guard.io/v1alpha1",\n  "kind": "SealedSecret"',
      ),
    ).toBe(true);
    expect(await opened(result.out)).toEqual({
      "prod/db": { password: "hunter2" },
      "prod/api": { token: "t0k" },
    });
  });

  it("writes YAML with -o yaml, and to a .yaml file with -w, with Bitnami's kind on request", async () => {
    const output = files.path("out.yaml");
    const stdin = secretYaml("db", "prod", { password: "hunter2" });
    const args = ["seal", "--cert", certFile, "-w", output, "--apiversion", "bitnami.com/v1alpha1"];
    expect((await gitopsGuard(args, { stdin })).code).toBe(0);
    const text = readFileSync(output, "utf8");
    expect(text.startsWith("---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n")).toBe(
      true,
    );
    expect(parseAllDocuments(text)).toHaveLength(1);
    expect(await opened(text)).toEqual({ "prod/db": { password: "hunter2" } });
    const yaml = await gitopsGuard(["seal", "--cert", certFile, "-o", "yaml"], { stdin });
    expect(yaml.out.startsWith("---\napiVersion: gitops-guard.io/v1alpha1\n")).toBe(true);
  });

  it("takes the certificate from GITOPS_GUARD_CERT before SEALED_SECRETS_CERT, and --cert first", async () => {
    const stdin = secretYaml("db", "prod", { p: "v" });
    const missing = files.path("missing.pem");
    const fromGuard = await gitopsGuard(["seal"], {
      stdin,
      env: { GITOPS_GUARD_CERT: certFile, SEALED_SECRETS_CERT: missing },
    });
    expect(fromGuard.code).toBe(0);
    const fromBitnami = await gitopsGuard(["seal"], {
      stdin,
      env: { SEALED_SECRETS_CERT: certFile },
    });
    expect(fromBitnami.code).toBe(0);
    const flagWins = await gitopsGuard(["seal", "--cert", missing], {
      stdin,
      env: { GITOPS_GUARD_CERT: certFile },
    });
    expect(flagWins).toMatchObject({
      code: 1,
      err: `error GG_SEAL_CERT_UNAVAILABLE: --cert ${missing}: no such file\n`,
    });
  });

  describe("with the certificate at a URL", () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === "/v1/cert.pem")
          res.writeHead(200, { "Content-Type": "application/x-pem-file" }).end(key.certificatePem);
        else res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => {
            resolve();
          });
        }),
    );

    it("fetches it over HTTP and from file:// URLs", async () => {
      const stdin = secretYaml("db", "prod", { p: "v" });
      expect((await gitopsGuard(["seal", "--cert", `${base}/v1/cert.pem`], { stdin })).code).toBe(
        0,
      );
      expect(
        (await gitopsGuard(["seal", "--cert", pathToFileURL(certFile).href], { stdin })).code,
      ).toBe(0);
      const notFound = await gitopsGuard(["seal", "--cert", `${base}/nope`], { stdin });
      expect(notFound.err).toBe(
        `error GG_SEAL_CERT_UNAVAILABLE: cannot fetch the certificate from ${base}/nope (--cert): HTTP 404\n`,
      );
    });

    it("prints it with --fetch-cert", async () => {
      const result = await gitopsGuard(["seal", "--fetch-cert", "--cert", `${base}/v1/cert.pem`]);
      expect(result).toMatchObject({ code: 0, out: key.certificatePem });
    });
  });

  it("seals one raw value for --raw, with kubeseal's rules for name and namespace", async () => {
    const valueFile = files.write("value.txt", "raw-secret");
    const raw = await gitopsGuard([
      "seal",
      "--cert",
      certFile,
      "--raw",
      "--from-file",
      `k=${valueFile}`,
      "--name",
      "db",
      "-n",
      "prod",
    ]);
    expect(raw.code).toBe(0);
    const ring = new Keyring([key.key]);
    const parts = splitSealedValue(decodeBase64(raw.out)!, ring.blockSizes());
    expect(ring.open(parts, Buffer.from("prod/db"))?.plaintext.toString()).toBe("raw-secret");
    const fromStdin = await gitopsGuard(
      ["seal", "--cert", certFile, "--raw", "--scope", "namespace-wide", "-n", "prod"],
      { stdin: "piped" },
    );
    const nsParts = splitSealedValue(decodeBase64(fromStdin.out)!, ring.blockSizes());
    expect(ring.open(nsParts, Buffer.from("prod"))?.plaintext.toString()).toBe("piped");
    const noName = await gitopsGuard(["seal", "--cert", certFile, "--raw", "-n", "prod"], {
      stdin: "x",
    });
    expect(noName.err).toContain("--raw in strict scope needs --name");
    const noRaw = await gitopsGuard(["seal", "--cert", certFile, "--from-file", valueFile]);
    expect(noRaw.err).toBe("error GG_SEAL_INPUT_INVALID: --from-file requires --raw\n");
  });

  it("applies --scope, -n and the kubeconfig context namespace like kubeseal", async () => {
    const cw = await gitopsGuard(["seal", "--cert", certFile, "--scope", "cluster-wide"], {
      stdin: secretYaml("db", "prod", { p: "v" }),
    });
    expect(JSON.parse(cw.out)).toMatchObject({
      metadata: { annotations: { "sealedsecrets.bitnami.com/cluster-wide": "true" } },
    });
    const mismatch = await gitopsGuard(["seal", "--cert", certFile, "-n", "dev"], {
      stdin: secretYaml("db", "prod", { p: "v" }),
    });
    expect(mismatch.err).toBe(
      'error GG_SEAL_NAMESPACE_MISMATCH: namespace mismatch: the Secret prod/db is in namespace "prod" but -n "dev" was given\n',
    );
    const kubeconfig = files.write(
      "kubeconfig",
      "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {cluster: x, user: y, namespace: team-a}\n",
    );
    const fromContext = await gitopsGuard(["seal", "--cert", certFile], {
      stdin: secretYaml("db", undefined, { p: "v" }),
      env: { KUBECONFIG: kubeconfig },
    });
    expect(JSON.parse(fromContext.out)).toMatchObject({
      metadata: { name: "db", namespace: "team-a" },
    });
    expect(await opened(fromContext.out)).toEqual({ "team-a/db": { p: "v" } });
  });

  it("refuses an expired certificate and bad input with a clear message and no value", async () => {
    const old = await generateSealingKey({
      now: Date.now() - 3 * HOUR,
      validForMs: HOUR,
      bits: 2048,
    });
    const expired = files.write("expired.pem", old.certificatePem);
    const result = await gitopsGuard(["seal", "--cert", expired], {
      stdin: secretYaml("db", "prod", { p: "v" }),
    });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      /^error GG_SEAL_CERT_EXPIRED: --cert: the certificate \(key SHA256:\S+\) expired on \d{4}-\d\d-\d\d; fetch the controller's current certificate\n$/,
    );
    const bad =
      "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\ndata: {password: hunter2!}\n";
    const badResult = await gitopsGuard(["seal", "--cert", certFile], { stdin: bad });
    expect(badResult.err).toBe(
      "error GG_SEAL_INPUT_INVALID: stdin: data.password is not valid base64 (use stringData for plain text)\n",
    );
    const notYaml = await gitopsGuard(["seal", "--cert", certFile], { stdin: "a: [1,\n" });
    expect(notYaml.err).toMatch(/^error GG_SEAL_INPUT_INVALID: stdin is not valid YAML or JSON: /);
    expect(notYaml.err).not.toMatch(/\n\s+at /);
  });
});

describe("GITOPS_GUARD_CERT", () => {
  it("is not taken for an unknown service setting by `run`", async () => {
    let ran = false;
    const code = await runCli(["node", "gitops-guard", "run"], {
      run: () => {
        ran = true;
        return Promise.resolve();
      },
      env: { GITOPS_GUARD_CERT: "/tmp/cert.pem" },
      hostname: "h",
      output: { writeOut: () => undefined, writeErr: () => undefined },
    });
    expect({ code, ran }).toEqual({ code: 0, ran: true });
  });
});

describe("gitops-guard seal --merge-into", () => {
  it("adds items to a YAML SealedSecret in place, keeping its comments and scope", async () => {
    const sealed = await gitopsGuard(
      ["seal", "--cert", certFile, "-o", "yaml", "--scope", "namespace-wide"],
      {
        stdin: secretYaml("db", "prod", { user: "admin" }),
      },
    );
    const target = files.write(
      "merge.yaml",
      `# owned by team-a\n${sealed.out.replace(/^---\n/, "")}`,
    );
    const stdin =
      "apiVersion: v1\nkind: Secret\nmetadata: {name: ignored, labels: {tier: db}}\nstringData: {password: hunter2}\n";
    const merged = await gitopsGuard(["seal", "--cert", certFile, "--merge-into", target], {
      stdin,
    });
    expect(merged).toMatchObject({ code: 0, out: "" });
    const text = readFileSync(target, "utf8");
    expect(text.startsWith("# owned by team-a\n")).toBe(true);
    expect(await opened(text)).toEqual({ "prod/db": { user: "admin", password: "hunter2" } });
    expect(text).toContain("tier: db");
    const contradiction = await gitopsGuard(
      ["seal", "--cert", certFile, "--merge-into", target, "--scope", "strict"],
      { stdin },
    );
    expect(contradiction.err).toContain("--scope strict contradicts");
  });

  it("merges into a JSON file and keeps it JSON", async () => {
    const sealed = await gitopsGuard(["seal", "--cert", certFile], {
      stdin: secretYaml("db", "prod", { a: "1" }),
    });
    const target = files.write("merge.json", sealed.out);
    expect(
      (
        await gitopsGuard(["seal", "--cert", certFile, "--merge-into", target], {
          stdin: secretYaml("x", "other", { b: "2" }),
        })
      ).code,
    ).toBe(0);
    const text = readFileSync(target, "utf8");
    expect(() => JSON.parse(text) as unknown).not.toThrow();
    expect(await opened(text)).toEqual({ "prod/db": { a: "1", b: "2" } });
  });
});

describe("gitops-guard seal --validate, --re-encrypt, --recovery-unseal (offline)", () => {
  let sealedText: string;
  beforeAll(async () => {
    sealedText = (
      await gitopsGuard(["seal", "--cert", certFile], {
        stdin: secretYaml("db", "prod", { password: "hunter2" }),
      })
    ).out;
  });

  it("validates with --private-key, and explains a SealedSecret that does not open", async () => {
    const ok = await gitopsGuard(["seal", "--validate", "--private-key", keyFile], {
      stdin: sealedText,
    });
    expect(ok).toMatchObject({ code: 0, out: "" });
    expect(ok.err).toMatch(/^ok: SealedSecret prod\/db opens \(1 items, key SHA256:/);
    const moved = sealedText.replace('"namespace": "prod"', '"namespace": "staging"');
    const bad = await gitopsGuard(["seal", "--validate", "--private-key", keyFile], {
      stdin: moved,
    });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(
      /^error GG_UNSEAL_SCOPE_MISMATCH: SealedSecret staging\/db: value "password" was sealed for "prod\/db" \(strict scope\)/,
    );
    expect(bad.err).not.toContain("hunter2");
  });

  it("re-encrypts for the newest key of a backup, in place with -f", async () => {
    const newer = await generateSealingKey({ now: Date.now() });
    const backup = files.write(
      "backup.json",
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          keySecret(key, { namespace: "ns", name: "old" }),
          keySecret(newer, { namespace: "ns", name: "new" }),
        ],
      }),
    );
    const file = files.write("rotate.json", sealedText);
    const result = await gitopsGuard(["seal", "--re-encrypt", "--private-key", backup, "-f", file]);
    expect(result).toMatchObject({ code: 0, out: "" });
    const ss = readSealedSecret(JSON.parse(readFileSync(file, "utf8")), "rotated");
    const onlyNew = new Keyring([newer.key]);
    expect(unsealSealedSecret(ss, { keyring: onlyNew }).values.get("password")?.toString()).toBe(
      "hunter2",
    );
  });

  it("recovers Secrets with --recovery-unseal from PEM keys, and refuses the v1 form", async () => {
    const result = await gitopsGuard(
      ["seal", "--recovery-unseal", "--recovery-private-key", keyFile],
      { stdin: sealedText },
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db", namespace: "prod" },
      data: { password: Buffer.from("hunter2").toString("base64") },
    });
    const v1 = JSON.stringify({
      apiVersion: "bitnami.com/v1alpha1",
      kind: "SealedSecret",
      metadata: { name: "db", namespace: "prod" },
      spec: { data: "AgA=" },
    });
    const refused = await gitopsGuard(
      ["seal", "--recovery-unseal", "--recovery-private-key", keyFile],
      { stdin: v1 },
    );
    expect(refused.err).toMatch(
      /^error GG_UNSEAL_DEPRECATED_V1: SealedSecret prod\/db uses the deprecated v1 form/,
    );
    const noKey = await gitopsGuard(["seal", "--recovery-unseal"], { stdin: sealedText });
    expect(noKey.err).toBe("error GG_KEYS_NONE: --recovery-unseal needs --recovery-private-key\n");
    writeFileSync(files.path("empty.pem"), "");
  });
});
