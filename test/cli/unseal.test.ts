import { parseAllDocuments } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { generateSealingKey, type GeneratedKey } from "../../src/crypto/sealing/keygen.js";
import { gitopsGuard, secretYaml, workdir } from "./harness.js";

const files = workdir("unseal");
let key: GeneratedKey;
let keyFile: string;
let sealed: string;

beforeAll(async () => {
  key = await generateSealingKey({ now: Date.now() });
  const certFile = files.write("cert.pem", key.certificatePem);
  keyFile = files.write("key.pem", key.privateKeyPem);
  const stdin =
    secretYaml("db", "prod", { password: "hunter2" }) +
    "---\n" +
    secretYaml("api", "prod", { token: "t0k" });
  sealed = (await gitopsGuard(["seal", "--cert", certFile, "-o", "yaml"], { stdin })).out;
});

describe("gitops-guard unseal", () => {
  it("prints the Secrets with values hidden: their size and the key that opened them", async () => {
    const result = await gitopsGuard(["unseal", "--private-key", keyFile], { stdin: sealed });
    expect(result.code).toBe(0);
    const docs = parseAllDocuments(result.out).map((d) => d.toJS() as Record<string, unknown>);
    expect(docs).toEqual([
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "db", namespace: "prod" },
        data: { password: `(hidden: 7 bytes, key ${key.key.fingerprint})` },
      },
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "api", namespace: "prod" },
        data: { token: `(hidden: 3 bytes, key ${key.key.fingerprint})` },
      },
    ]);
    expect(result.out).not.toContain("hunter2");
    expect(result.out).not.toContain(Buffer.from("hunter2").toString("base64"));
  });

  it("prints the values with --show-values, as JSON with -o json", async () => {
    const file = files.write("sealed.yaml", sealed);
    const result = await gitopsGuard([
      "unseal",
      "--private-key",
      keyFile,
      "--show-values",
      "-o",
      "json",
      "-f",
      file,
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toContain(`"password": "${Buffer.from("hunter2").toString("base64")}"`);
  });

  it("names the object a spliced value came from when it is in the same input", async () => {
    const docs = parseAllDocuments(sealed).map(
      (d) => d.toJS() as { spec: { encryptedData: Record<string, string> } },
    );
    const [db, api] = docs;
    db!.spec.encryptedData.password = api!.spec.encryptedData.token!;
    const stdin = docs.map((d) => JSON.stringify(d)).join("\n");
    const result = await gitopsGuard(["unseal", "--private-key", keyFile], { stdin });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      /^error GG_UNSEAL_SCOPE_MISMATCH: SealedSecret prod\/db: value "password" was sealed for "prod\/api" \(strict scope\).*was it copied from SealedSecret prod\/api\?/,
    );
  });

  it("requires keys, and says which file is not a key", async () => {
    const missing = await gitopsGuard(["unseal"], { stdin: sealed });
    expect(missing.err).toBe("error GG_KEYS_NONE: --private-key names no file\n");
    const notKey = files.write(
      "not-a-key.yaml",
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    const wrong = await gitopsGuard(["unseal", "--private-key", notKey], { stdin: sealed });
    expect(wrong.err).toBe(
      `error GG_KEYS_INVALID: ${notKey}: expected key Secrets (kind Secret) or a List of them\n`,
    );
  });
});
