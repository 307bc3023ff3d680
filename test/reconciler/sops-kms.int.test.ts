/**
 * SOPS files wrapped with AWS KMS, synced from a real Git repository to the real API server:
 * the real sops encrypts with a key of a local KMS emulator (moto over HTTP, which checks the
 * encryption context), and the reconciler opens them with the credentials of the GitSync's
 * decryption Secret (Flux's sops.aws-kms entry), or with its own AWS identity when lent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import { GO_TOOL_BUILD_TIMEOUT_MS, realSops, type RealSops } from "../crypto/sops/real-sops.js";
import { clientAs, testNamespace } from "../envtest/context.js";
import {
  createKmsKey,
  ensureMoto,
  MOTO_INSTALL_TIMEOUT_MS,
  startMoto,
  type MotoServer,
} from "../tools/moto/moto-server.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  condition,
  eventsOf,
  putGitSync,
  requestSync,
  startReconciler,
  waitForApplied,
  waitForReadyReason,
  type Harness,
} from "./helpers/harness.js";
import { yaml } from "./helpers/manifests.js";
import { ageKeySecretData } from "./helpers/sops-fixtures.js";

const PASSWORD = "kms-wrapped-pa55word";
const SECRET_KEY = "moto-secret-access-key-value";
const CREDENTIALS = { accessKeyId: "AKIAGITOPSGUARD", secretAccessKey: SECRET_KEY };

let sops: RealSops;
let moto: MotoServer;
let arn: string;

/** A Secret manifest encrypted by the real sops with the KMS key and an encryption context. */
async function encryptedSecret(name: string): Promise<string> {
  const plain = yaml({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name },
    stringData: { password: PASSWORD },
  });
  const out = await sops.run(
    [
      "-e",
      "--kms",
      arn,
      "--encryption-context",
      "Team:guard",
      "--encrypted-regex",
      "^(data|stringData)$",
      sops.write(`${name}.yaml`, plain),
    ],
    {
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_EC2_METADATA_DISABLED: "true",
    },
  );
  return out.toString("utf8");
}

function awsKmsEntry(): string {
  const text = `aws_access_key_id: ${CREDENTIALS.accessKeyId}\naws_secret_access_key: ${SECRET_KEY}\n`;
  return Buffer.from(text).toString("base64");
}

async function password(namespace: string, name: string): Promise<string | undefined> {
  const secret = await clientAs("admin").get<KubeObject & { data?: Record<string, string> }>({
    apiVersion: "v1",
    kind: "Secret",
    namespace,
    name,
  });
  const value = secret?.data?.["password"];
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
}

/** Nothing the reconciler said (status, Events, log lines) holds the value or the secret key. */
async function expectNothingLeaked(ns: string, name: string, harness: Harness): Promise<void> {
  const gitSync = await clientAs("admin").get({
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GitSync",
    namespace: ns,
    name,
  });
  const shown = [
    JSON.stringify(gitSync),
    JSON.stringify(await eventsOf(ns, name)),
    harness.logs.raw(),
  ].join("\n");
  expect(shown).not.toContain(PASSWORD);
  expect(shown).not.toContain(SECRET_KEY);
}

beforeAll(async () => {
  sops = realSops();
  moto = await startMoto(ensureMoto());
  arn = await createKmsKey(moto, "eu-west-1", CREDENTIALS);
}, GO_TOOL_BUILD_TIMEOUT_MS + MOTO_INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await moto.stop();
  sops.close();
});

describe("GitSync: SOPS files wrapped with AWS KMS", () => {
  it("opens them with the decryption Secret's sops.aws-kms credentials, and says where they go when missing", async () => {
    const harness = await startReconciler({}, { GITOPS_GUARD_SOPS_KMS_ENDPOINT: moto.endpoint });
    try {
      const ns = await testNamespace("kms");
      const repo = await GitRepo.create();
      const c1 = await repo.commit("kms secret", { "deploy/db.yaml": await encryptedSecret("db") });
      // First with the age key only: the file has no age recipient, and no AWS credentials.
      await clientAs("admin").apply({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "sops-keys", namespace: ns },
        data: ageKeySecretData(),
      });
      const spec = {
        url: repo.url,
        path: "deploy",
        decryption: { provider: "sops", secretRef: { name: "sops-keys" } },
      };
      await putGitSync(ns, "db", spec);
      const refused = await waitForReadyReason(ns, "db", "DecryptionFailed");
      expect(condition(refused, "Ready")?.message).toContain("deploy/db.yaml");
      expect(condition(refused, "Ready")?.message).toContain(
        `kms:${arn}: no AWS credentials: add a sops.aws-kms entry to Secret ${ns}/sops-keys`,
      );
      expect(await password(ns, "db")).toBeUndefined();

      await clientAs("admin").apply({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "sops-keys", namespace: ns },
        data: { ...ageKeySecretData(), "sops.aws-kms": awsKmsEntry() },
      });
      await requestSync(ns, "db");
      await waitForApplied(ns, "db", c1);
      expect(await password(ns, "db")).toBe(PASSWORD);

      // KMS binds the data key to the encryption context: a changed context is refused.
      const forged = (await encryptedSecret("db")).replace("Team: guard", "Team: other");
      await repo.commit("changed context", { "deploy/db.yaml": forged });
      await requestSync(ns, "db");
      const forgedRefused = await waitForReadyReason(ns, "db", "DecryptionFailed");
      expect(condition(forgedRefused, "Ready")?.message).toContain(
        `kms:${arn}: InvalidCiphertextException`,
      );
      expect(await password(ns, "db")).toBe(PASSWORD);
      await expectNothingLeaked(ns, "db", harness);
    } finally {
      await harness.stop();
    }
  });

  it("with spec.decryption and no Secret, uses the controller's own AWS identity only when it lends it", async () => {
    // The AWS SDK's default chain reads these: the controller's identity in this test.
    process.env["AWS_ACCESS_KEY_ID"] = "AKIACONTROLLER";
    process.env["AWS_SECRET_ACCESS_KEY"] = "controller-secret";
    process.env["AWS_EC2_METADATA_DISABLED"] = "true";
    const ns = await testNamespace("kmsamb");
    const spec = (url: string): Record<string, unknown> => ({
      url,
      path: "deploy",
      decryption: { provider: "sops" },
    });
    const files = async (): Promise<Record<string, string>> => ({
      "deploy/api.yaml": await encryptedSecret("api"),
    });

    const lending = { GITOPS_GUARD_SOPS_KMS_ENDPOINT: moto.endpoint };
    const withheld = await startReconciler({}, lending);
    try {
      const repo = await GitRepo.create();
      await repo.commit("kms secret", await files());
      await putGitSync(ns, "api", spec(repo.url));
      const refused = await waitForReadyReason(ns, "api", "DecryptionUnavailable");
      expect(condition(refused, "Ready")?.message).toBe(
        "deploy/api.yaml is SOPS-encrypted and spec.decryption.secretRef is not set",
      );
    } finally {
      // Also removes the harness's temporary folders, the repository among them.
      await withheld.stop();
    }

    const lent = await startReconciler(
      {},
      { ...lending, GITOPS_GUARD_SOPS_KMS_AMBIENT_CREDENTIALS: "true" },
    );
    try {
      const repo = await GitRepo.create();
      const c1 = await repo.commit("kms secret", await files());
      await putGitSync(ns, "api", spec(repo.url));
      await waitForApplied(ns, "api", c1);
      expect(await password(ns, "api")).toBe(PASSWORD);
      await expectNothingLeaked(ns, "api", lent);
    } finally {
      await lent.stop();
    }
  });
});
