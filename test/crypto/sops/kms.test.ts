/**
 * AWS KMS over real HTTP: the real sops encrypts with keys of a local KMS emulator (moto,
 * which checks the encryption context), and our decryptor opens the files through the AWS
 * SDK, taking the region from each key's ARN and assuming the file's role through STS.
 */
import { generateX25519Identity } from "age-encryption";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../../src/cli/run-cli.js";
import {
  createAwsKmsDecryptor,
  decryptSops,
  parseAgeIdentities,
  toPlainValue,
  type AgeIdentity,
  type AwsKmsDecryptor,
} from "../../../src/crypto/sops/index.js";
import { ErrorCodes, isGuardError } from "../../../src/errors.js";
import {
  createKmsKey,
  ensureMoto,
  MOTO_INSTALL_TIMEOUT_MS,
  startMoto,
  type MotoServer,
} from "../../tools/moto/moto-server.js";
import { GO_TOOL_BUILD_TIMEOUT_MS, realSops, type RealSops } from "./real-sops.js";

const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };
const ROLE = "arn:aws:iam::123456789012:role/gitops-guard-sops";

let sops: RealSops;
let moto: MotoServer;
let kms: AwsKmsDecryptor;
let arnUsEast: string;
let arnEuWest: string;
let age: AgeIdentity[];

function sopsEnv(): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

async function encrypt(name: string, plain: string, flags: readonly string[]): Promise<Buffer> {
  return sops.run(["-e", ...flags, sops.write(name, plain)], sopsEnv());
}

beforeAll(async () => {
  sops = realSops();
  moto = await startMoto(ensureMoto());
  [arnUsEast, arnEuWest] = await Promise.all([
    createKmsKey(moto, "us-east-1", CREDENTIALS),
    createKmsKey(moto, "eu-west-1", CREDENTIALS),
  ]);
  kms = createAwsKmsDecryptor({
    endpoint: moto.endpoint,
    stsEndpoint: moto.endpoint,
    credentials: CREDENTIALS,
  });
  age = await parseAgeIdentities(await generateX25519Identity(), "generated");
}, GO_TOOL_BUILD_TIMEOUT_MS + MOTO_INSTALL_TIMEOUT_MS);

afterAll(async () => {
  kms.close();
  await moto.stop();
  sops.close();
});

describe("AWS KMS through a local emulator", () => {
  it("opens a file sops wrapped with KMS and an encryption context", async () => {
    const encrypted = await encrypt("kms.yaml", "password: s3cr3t\nbig: 9007199254740993\n", [
      "--kms",
      arnUsEast,
      "--encryption-context",
      "Environment:production,Team:guard",
    ]);
    expect(encrypted.toString()).toContain("Environment: production");
    const result = await decryptSops({ name: "kms.yaml", content: encrypted }, { kms });
    expect(toPlainValue(result.documents[0]!)).toEqual({
      password: "s3cr3t",
      big: 9007199254740993n,
    });
    expect(result.openedBy).toEqual([`kms:${arnUsEast}`]);
  });

  it("a changed encryption context is refused by KMS, and the error names the key", async () => {
    const encrypted = await encrypt("context.yaml", "a: b\n", [
      "--kms",
      arnUsEast,
      "--encryption-context",
      "Environment:production",
    ]);
    const changed = encrypted.toString().replace("Environment: production", "Environment: staging");
    const err: unknown = await decryptSops(
      { name: "context.yaml", content: changed },
      { kms },
    ).catch((e: unknown) => e);
    expect(isGuardError(err, ErrorCodes.SOPS_NO_KEY)).toBe(true);
    expect((err as Error).message).toContain(`kms:${arnUsEast}: InvalidCiphertextException`);
  });

  it("takes the region from the key's ARN", async () => {
    expect(arnEuWest).toContain(":eu-west-1:");
    const encrypted = await encrypt("eu.json", '{"k": "v"}', ["--kms", arnEuWest]);
    const result = await decryptSops({ name: "eu.json", content: encrypted }, { kms });
    expect(toPlainValue(result.documents[0]!)).toEqual({ k: "v" });
  });

  it("assumes the file's role through STS before calling KMS", async () => {
    const encrypted = await encrypt("role.env", "A=1\n", ["--kms", `${arnUsEast}+${ROLE}`]);
    expect(encrypted.toString()).toContain(`sops_kms__list_0__map_role=${ROLE}`);
    const result = await decryptSops({ name: "role.env", content: encrypted }, { kms });
    expect(result.openedBy).toEqual([`kms:${arnUsEast}+${ROLE}`]);
    expect(toPlainValue(result.documents[0]!)).toEqual({ A: "1" });
  });

  it("a file with age and KMS keys opens with either", async () => {
    const recipient = age[0]?.recipient ?? "";
    const encrypted = await encrypt("both.yaml", "x: y\n", [
      "--kms",
      arnUsEast,
      "--age",
      recipient,
    ]);
    const byKms = await decryptSops({ name: "both.yaml", content: encrypted }, { kms });
    expect(byKms.openedBy).toEqual([`kms:${arnUsEast}`]);
    const byAge = await decryptSops({ name: "both.yaml", content: encrypted }, { age });
    expect(byAge.openedBy).toEqual([`age:${recipient}`]);
  });

  it("without KMS access the error says so", async () => {
    const encrypted = await encrypt("nokms.yaml", "x: y\n", ["--kms", arnUsEast]);
    const err: unknown = await decryptSops({ name: "nokms.yaml", content: encrypted }, {}).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toContain("no AWS KMS access was configured");
  });

  it("the CLI reads the endpoint and credentials from the environment it is given", async () => {
    const path = sops.write(
      "cli.yaml.enc",
      await encrypt("cli.yaml", "a: 1\n---\nb: 2\n", ["--kms", arnUsEast]),
    );
    let out = "";
    let errors = "";
    const code = await runCli(
      ["node", "gitops-guard", "sops", "decrypt", path, "--input-type", "yaml", "-o", "json"],
      {
        env: sopsEnv(),
        hostname: "test-host",
        run: () => Promise.resolve(),
        output: { writeOut: (t) => (out += t), writeErr: (t) => (errors += t) },
      },
    );
    expect(errors).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual([{ a: 1 }, { b: 2 }]);
  });
});
