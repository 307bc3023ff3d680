/**
 * The online key commands against a real API server: `keys backup` reads key Secrets from the
 * cluster into a List that kubeseal takes as a recovery backup, and `keys import --apply`
 * writes gitops-guard key Secrets from a Bitnami backup. No controller is needed for either.
 */
import { execFileSync } from "node:child_process";
import { parseAllDocuments } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import {
  BITNAMI_KEY_SECRET_LABEL,
  KEY_SECRET_LABEL,
  keySecret,
} from "../../src/crypto/sealing/key-secret.js";
import { generateSealingKey, type GeneratedKey } from "../../src/crypto/sealing/keygen.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { clientAs, envtest, testNamespace } from "../envtest/context.js";
import { ensureGoTool, GO_TOOL_BUILD_TIMEOUT_MS } from "../tools/go-tools.js";
import { gitopsGuard, workdir } from "./harness.js";

const files = workdir("keys-int");
let kubeseal: string;
let keys: GeneratedKey[];

beforeAll(async () => {
  kubeseal = ensureGoTool("kubeseal");
  keys = await Promise.all(
    [0, 1].map((i) => generateSealingKey({ now: Date.now() - (2 - i) * 60_000, bits: 2048 })),
  );
}, GO_TOOL_BUILD_TIMEOUT_MS);

function bitnamiKeySecret(g: GeneratedKey, namespace: string, name: string): KubeObject {
  const secret = keySecret(g, { namespace, name });
  return {
    ...secret,
    metadata: { name, namespace, labels: { [BITNAMI_KEY_SECRET_LABEL]: "active" } },
  };
}

describe("gitops-guard keys against the API server", () => {
  it("backs up Bitnami's key Secrets into a List kubeseal recovers with", async () => {
    const namespace = await testNamespace("keys");
    const admin = clientAs("admin");
    await admin.create(bitnamiKeySecret(keys[0]!, namespace, "sealed-secrets-keyaaaaa"));
    await admin.create(bitnamiKeySecret(keys[1]!, namespace, "sealed-secrets-keybbbbb"));
    await admin.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "unrelated", namespace },
      stringData: { a: "b" },
    });

    const kubeconfig = envtest().kubeconfigs.admin;
    const backup = await gitopsGuard([
      "keys",
      "backup",
      "--bitnami",
      "--namespace",
      namespace,
      "--kubeconfig",
      kubeconfig,
    ]);
    expect(backup.code).toBe(0);
    expect(backup.err).toBe(
      "2 key(s) backed up; the output holds private keys: keep it out of Git\n",
    );
    const [list] = parseAllDocuments(backup.out).map(
      (d) => d.toJS() as { kind: string; items: KubeObject[] },
    );
    expect(list?.kind).toBe("List");
    expect(list?.items.map((i) => i.metadata.name).sort()).toEqual([
      "sealed-secrets-keyaaaaa",
      "sealed-secrets-keybbbbb",
    ]);
    for (const item of list?.items ?? []) {
      expect(Object.keys(item.metadata).sort()).toEqual(["labels", "name", "namespace"]);
    }

    const cert = files.write("cert.pem", keys[0]!.certificatePem);
    const secret = JSON.stringify({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db", namespace: "prod" },
      stringData: { p: "v" },
    });
    const sealed = (
      await gitopsGuard(["seal", "--cert", cert, "--apiversion", "bitnami.com/v1alpha1"], {
        stdin: secret,
      })
    ).out;
    const backupFile = files.write("backup.yaml", backup.out);
    const recovered = execFileSync(
      kubeseal,
      ["--recovery-unseal", "--recovery-private-key", backupFile],
      {
        input: sealed,
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", HOME: files.dir },
      },
    );
    expect((JSON.parse(recovered) as { data: { p: string } }).data.p).toBe(
      Buffer.from("v").toString("base64"),
    );
  });

  it("imports a Bitnami backup as gitops-guard key Secrets with --apply, idempotently", async () => {
    const namespace = await testNamespace("import");
    const backup = files.write(
      "bitnami-backup.json",
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: keys.map((g, i) => bitnamiKeySecret(g, "kube-system", `k${i}`)),
      }),
    );
    const kubeconfig = envtest().kubeconfigs.admin;
    const args = [
      "keys",
      "import",
      backup,
      "--apply",
      "--namespace",
      namespace,
      "--kubeconfig",
      kubeconfig,
    ];
    expect((await gitopsGuard(args)).code).toBe(0);
    expect((await gitopsGuard(args)).code).toBe(0);
    const { items } = await clientAs("admin").list<KubeObject>(
      { apiVersion: "v1", kind: "Secret" },
      { namespace, labelSelector: `${KEY_SECRET_LABEL}=active` },
    );
    expect(items).toHaveLength(2);
    expect(items.every((s) => s["type"] === "kubernetes.io/tls")).toBe(true);

    const ours = await gitopsGuard([
      "keys",
      "backup",
      "--namespace",
      namespace,
      "--kubeconfig",
      kubeconfig,
      "-o",
      "json",
    ]);
    const listed = await gitopsGuard(["keys", "list", files.write("ours.json", ours.out)]);
    for (const g of keys) expect(listed.out).toContain(g.key.fingerprint);
  });

  it("says where it looked when there are no keys", async () => {
    const namespace = await testNamespace("none");
    const result = await gitopsGuard([
      "keys",
      "backup",
      "--namespace",
      namespace,
      "--kubeconfig",
      envtest().kubeconfigs.admin,
    ]);
    expect(result.err).toBe(
      `error GG_KEYS_NONE: no Secrets labelled ${KEY_SECRET_LABEL}=active in namespace ${namespace}\n`,
    );
  });
});
