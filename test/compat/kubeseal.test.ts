/**
 * Compatibility with the real kubeseal (github.com/bitnami-labs/sealed-secrets v0.36.0, built
 * from the Go module proxy by test/tools): what it seals opens here, what we seal opens with
 * `kubeseal --recovery-unseal`, it accepts our certificates and key backups, and tampering
 * with its output is refused with the same explanations as with ours.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parseDocuments } from "../../src/cli/documents.js";
import { decodeBase64 } from "../../src/crypto/sealing/base64.js";
import { splitSealedValue } from "../../src/crypto/sealing/hybrid.js";
import { Keyring } from "../../src/crypto/sealing/keyring.js";
import { generateSealingKey, type GeneratedKey } from "../../src/crypto/sealing/keygen.js";
import { sealingLabel, SCOPES, type Scope } from "../../src/crypto/sealing/scope.js";
import { readSealedSecret } from "../../src/crypto/sealing/sealed-secret.js";
import { unsealSealedSecret, type UnsealOptions } from "../../src/crypto/sealing/unseal.js";
import { gitopsGuard, workdir } from "../cli/harness.js";
import { TAMPER_CASES, type SealedSet } from "../crypto/sealing/tamper-cases.js";
import { ensureGoTool, GO_TOOL_BUILD_TIMEOUT_MS } from "../tools/go-tools.js";

const files = workdir("compat");
const PASSWORD = "hunter2 \u00e9\u0000\u00ff";
let kubeseal: string;
let key: GeneratedKey;
let other: GeneratedKey;
let certFile: string;
let keyFile: string;
let ring: Keyring;

beforeAll(async () => {
  kubeseal = ensureGoTool("kubeseal");
  [key, other] = await Promise.all([
    generateSealingKey({ now: Date.now() - 60_000 }),
    generateSealingKey({ now: Date.now() - 60_000 }),
  ]);
  certFile = files.write("cert.pem", key.certificatePem);
  keyFile = files.write("key.pem", key.privateKeyPem);
  ring = new Keyring([key.key]);
}, GO_TOOL_BUILD_TIMEOUT_MS);

/** Runs kubeseal with no kubeconfig in reach (HOME is the test folder). */
function runKubeseal(args: readonly string[], input: string): string {
  return execFileSync(kubeseal, args, {
    input,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: files.dir },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

function kubesealFails(args: readonly string[], input: string): string {
  try {
    runKubeseal(args, input);
  } catch (err: unknown) {
    return String((err as { stderr?: string }).stderr);
  }
  throw new Error("kubeseal was expected to fail");
}

const secretJson = (name: string, data: Record<string, string>): string =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "prod", labels: { app: name } },
    type: "Opaque",
    data: Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
    ),
  });

async function openWithOurs(
  text: string,
  options: Partial<UnsealOptions> = {},
): Promise<Record<string, string>> {
  const [doc] = await parseDocuments(text, "kubeseal output");
  const { values } = unsealSealedSecret(readSealedSecret(doc, "kubeseal output"), {
    keyring: ring,
    ...options,
  });
  return Object.fromEntries([...values].map(([k, v]) => [k, v.toString()]));
}

describe("kubeseal -> gitops-guard", () => {
  it.each(SCOPES)("opens what kubeseal sealed with our certificate, scope %s", async (scope) => {
    const out = runKubeseal(
      ["--cert", certFile, "--scope", scope, "-o", "yaml"],
      secretJson("db", { password: PASSWORD, user: "admin" }),
    );
    expect(await openWithOurs(out)).toEqual({ password: PASSWORD, user: "admin" });
  });

  it.each(SCOPES)("opens a kubeseal --raw value, scope %s", (scope: Scope) => {
    const raw = runKubeseal(
      ["--cert", certFile, "--raw", "--scope", scope, "--name", "db", "--namespace", "prod"],
      PASSWORD,
    );
    const parts = splitSealedValue(decodeBase64(raw)!, ring.blockSizes());
    const name = scope === "strict" ? "db" : "";
    const opened = ring.open(
      parts,
      sealingLabel(scope, scope === "cluster-wide" ? "" : "prod", name),
    );
    expect(opened?.plaintext.toString()).toBe(PASSWORD);
  });

  it("renders spec.template.data like kubeseal --recovery-unseal does", async () => {
    const sealed = JSON.parse(
      runKubeseal(["--cert", certFile], secretJson("db", { password: PASSWORD, user: "admin" })),
    ) as {
      spec: { template: Record<string, unknown> };
    };
    sealed.spec.template.data = {
      "config.json": '{"user": {{ toJson .user }}, "password": {{ toJson .password }}}',
      dsn: '{{ printf "%s:%s" .user .password | b64enc }}@{{ index . "missing" }}{{ .missing }}',
    };
    const text = JSON.stringify(sealed);
    const theirs = JSON.parse(
      runKubeseal(["--recovery-unseal", "--recovery-private-key", keyFile], text),
    ) as { data: Record<string, string> };
    const ours = await gitopsGuard(
      ["seal", "--recovery-unseal", "--recovery-private-key", keyFile],
      { stdin: text },
    );
    expect((JSON.parse(ours.out) as { data: unknown }).data).toEqual(theirs.data);
  });
});

describe("gitops-guard -> kubeseal", () => {
  it.each(SCOPES)("kubeseal --recovery-unseal opens what we sealed, scope %s", async (scope) => {
    const ours = await gitopsGuard(
      ["seal", "--cert", certFile, "--scope", scope, "--apiversion", "bitnami.com/v1alpha1"],
      {
        stdin: secretJson("db", { password: PASSWORD }),
      },
    );
    expect(ours.code).toBe(0);
    const secret = JSON.parse(
      runKubeseal(["--recovery-unseal", "--recovery-private-key", keyFile], ours.out),
    ) as { data: Record<string, string> };
    expect(Buffer.from(secret.data.password!, "base64").toString()).toBe(PASSWORD);
  });

  it("kubeseal accepts our certificate, and reads our key Secrets as a recovery backup", async () => {
    const sealed = runKubeseal(["--cert", certFile], secretJson("db", { password: PASSWORD }));
    const imported = await gitopsGuard([
      "keys",
      "import",
      keyFile,
      "--namespace",
      "gitops-guard-system",
    ]);
    const backup = files.write("backup.yaml", imported.out);
    const secret = JSON.parse(
      runKubeseal(["--recovery-unseal", "--recovery-private-key", backup], sealed),
    ) as { data: Record<string, string> };
    expect(Buffer.from(secret.data.password!, "base64").toString()).toBe(PASSWORD);
  });

  it("kubeseal opens a file we merged into, and one we re-encrypted", async () => {
    const target = files.write(
      "merge.yaml",
      runKubeseal(["--cert", certFile, "-o", "yaml"], secretJson("db", { user: "admin" })),
    );
    const merged = await gitopsGuard(["seal", "--cert", certFile, "--merge-into", target], {
      stdin: secretJson("db", { password: PASSWORD }),
    });
    expect(merged.code).toBe(0);
    const opened = JSON.parse(
      runKubeseal(
        ["--recovery-unseal", "--recovery-private-key", keyFile],
        readFileSync(target, "utf8"),
      ),
    ) as { data: Record<string, string> };
    expect(Object.keys(opened.data).sort()).toEqual(["password", "user"]);

    const both = files.write(
      "both.pem",
      `${key.privateKeyPem}${other.privateKeyPem}${other.certificatePem}`,
    );
    const rotated = await gitopsGuard(
      [
        "seal",
        "--re-encrypt",
        "--private-key",
        both,
        "--cert",
        files.write("other.pem", other.certificatePem),
        "-o",
        "yaml",
      ],
      {
        stdin: readFileSync(target, "utf8"),
      },
    );
    expect(rotated.code).toBe(0);
    const otherKey = files.write("other-key.pem", other.privateKeyPem);
    const reopened = JSON.parse(
      runKubeseal(["--recovery-unseal", "--recovery-private-key", otherKey], rotated.out),
    ) as { data: Record<string, string> };
    expect(Buffer.from(reopened.data.password!, "base64").toString()).toBe(PASSWORD);
    expect(
      kubesealFails(["--recovery-unseal", "--recovery-private-key", keyFile], rotated.out),
    ).toContain("no key could decrypt secret");
  });
});

describe("tampering with kubeseal's output", () => {
  let set: SealedSet;
  beforeAll(() => {
    const seal = (name: string, args: string[] = [], cert = certFile): Record<string, unknown> =>
      JSON.parse(
        runKubeseal(
          ["--cert", cert, ...args],
          secretJson(name, { password: PASSWORD, user: "admin" }),
        ),
      ) as Record<string, unknown>;
    set = {
      strict: seal("db"),
      clusterWide: seal("db", ["--scope", "cluster-wide"]),
      otherObject: seal("api"),
      otherKey: seal("db", [], files.write("other-cert.pem", other.certificatePem)),
    };
  });

  it.each(TAMPER_CASES)(
    "refuses $name with its own explanation, where kubeseal says only 'no key could decrypt'",
    (c) => {
      const doc = readSealedSecret(c.make(set), "tampered");
      let error: (Error & { code?: string }) | undefined;
      try {
        unsealSealedSecret(doc, {
          keyring: ring,
          ...(c.otherObjects === undefined ? {} : { otherObjects: c.otherObjects }),
        });
      } catch (err: unknown) {
        error = err as Error & { code?: string };
      }
      expect(error?.code).toBe(c.code);
      expect(error?.message).toMatch(c.message);
      expect(error?.message).not.toContain(PASSWORD);
    },
  );
});
