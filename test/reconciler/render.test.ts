import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, type GuardError } from "../../src/errors.js";
import { isSopsDocument, parseManifests } from "../../src/reconciler/render/manifests.js";
import { renderSource, type RenderInput } from "../../src/reconciler/render/render.js";
import { decryptionKeys } from "../../src/reconciler/render/decryption-secret.js";
import { sopsFiles } from "../../src/reconciler/render/sops.js";
import { planRender } from "../../src/reconciler/render/walk.js";
import { ensureKustomize } from "./helpers/kustomize.js";
import { removeTempDirs, tempDir } from "./helpers/temp.js";
import { ageKeySecretData, fixture } from "./helpers/sops-fixtures.js";

function caught(fn: () => unknown): GuardError {
  try {
    fn();
  } catch (err: unknown) {
    return err as GuardError;
  }
  throw new Error("expected an error");
}

async function rejected(promise: Promise<unknown>): Promise<GuardError> {
  try {
    await promise;
  } catch (err: unknown) {
    return err as GuardError;
  }
  throw new Error("expected a rejection");
}

function tree(files: Record<string, string>): string {
  const root = tempDir("gg-render-");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

afterAll(removeTempDirs);

let kustomize: string;
let scratch: string;
beforeAll(() => {
  kustomize = ensureKustomize();
  scratch = tempDir("gg-scratch-");
}, 600_000);

function input(root: string, path = "."): RenderInput {
  return {
    root,
    path,
    kustomize: { kustomize, searchPath: "/usr/bin:/bin", homeDir: root, timeoutMs: 20_000 },
    scratchDir: scratch,
  };
}

describe("manifest parsing", () => {
  it("reads every document, skips empty ones, expands a List and keeps each document's line", () => {
    const text = [
      "# leading comment",
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata: {name: a}",
      "---",
      "---",
      "# only a comment",
      "---",
      "apiVersion: v1",
      "kind: List",
      "items:",
      "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}",
      "  - {apiVersion: v1, kind: Secret, metadata: {name: c}}",
      "",
    ].join("\n");
    const items = parseManifests(text, "apps/all.yaml");
    expect(items.map((i) => [i.object.kind, i.object.metadata.name, i.line])).toEqual([
      ["ConfigMap", "a", 2],
      ["ConfigMap", "b", 9],
      ["Secret", "c", 9],
    ]);
  });

  it("names the file, line and column of a YAML syntax error", () => {
    const err = caught(() =>
      parseManifests(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: [1\n",
        "apps/bad.yaml",
      ),
    );
    expect(err.code).toBe(ErrorCodes.RENDER_YAML_INVALID);
    expect(err.message).toMatch(/^apps\/bad\.yaml:7:1: /);
    expect(err.details).toMatchObject({ file: "apps/bad.yaml", line: 7 });
  });

  it("rejects duplicate keys, a document that is not an object, and an object without a name", () => {
    expect(caught(() => parseManifests("a: 1\na: 2\n", "dup.yaml")).message).toMatch(
      /^dup\.yaml:2:1: /,
    );
    expect(caught(() => parseManifests("- just\n- a list\n", "list.yaml")).message).toBe(
      "list.yaml:1: not a Kubernetes object (needs apiVersion, kind and metadata)",
    );
    const nameless = caught(() =>
      parseManifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: x-}\n", "gen.yaml"),
    );
    expect(nameless.code).toBe(ErrorCodes.RENDER_OBJECT_INVALID);
    expect(nameless.message).toContain("ConfigMap has no metadata.name");
  });

  it("refuses a YAML alias bomb instead of expanding it", () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      ...Array.from({ length: 8 }, (_, i) => {
        const prev = i === 0 ? "a" : `l${i - 1}`;
        return `l${i}: &l${i} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`;
      }),
    ].join("\n");
    expect(caught(() => parseManifests(bomb, "bomb.yaml")).code).toBe(
      ErrorCodes.RENDER_YAML_INVALID,
    );
  });

  it("recognises a SOPS-encrypted document by its metadata block", () => {
    const [plain] = parseManifests("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", "s.yaml");
    const [sops] = parseManifests(
      "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nsops: {mac: 'ENC[x]', version: 3.13.3}\n",
      "s.yaml",
    );
    expect(isSopsDocument(plain!.object)).toBe(false);
    expect(isSopsDocument(sops!.object)).toBe(true);
  });
});

describe("rendering a checkout", () => {
  it("walks plain manifests in path order, skipping hidden folders and other files", async () => {
    const root = tree({
      "apps/b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
      "apps/a/one.yml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n",
      "apps/z.json": JSON.stringify({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "json" },
      }),
      "apps/.github/workflow.yaml": "on: push\n",
      "apps/README.md": "# docs\n",
    });
    const items = await renderSource(input(root, "apps"));
    expect(items.map((i) => `${i.source}:${i.object.metadata.name ?? ""}`)).toEqual([
      "apps/a/one.yml:one",
      "apps/b.yaml:b",
      "apps/z.json:json",
    ]);
  });

  it("hands a folder with a kustomization to the real kustomize", async () => {
    const root = tree({
      "base/kustomization.yaml": "resources: [cm.yaml]\nnamePrefix: prod-\n",
      "base/cm.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1'}\n",
      "plain.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n",
    });
    expect(await planRender(root, root)).toEqual({
      files: ["plain.yaml"],
      kustomizations: ["base"],
    });
    const items = await renderSource(input(root));
    expect(items.map((i) => [i.source, i.object.metadata.name])).toEqual([
      ["plain.yaml", "plain"],
      ["base (kustomize build)", "prod-settings"],
    ]);
  });

  it("reports kustomize's own error, without the checkout's absolute path", async () => {
    const root = tree({ "kustomization.yaml": "resources: [missing.yaml]\n" });
    const err = await rejected(renderSource(input(root)));
    expect(err.code).toBe(ErrorCodes.RENDER_KUSTOMIZE_FAILED);
    expect(err.message).toMatch(/^\. \(kustomize build\) failed: Error: .*missing\.yaml/);
    expect(err.message).not.toContain(root);
  });

  it("never follows a symlink out of the repository, nor a path that leaves it", async () => {
    const outside = tree({
      "token.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stolen}\n",
    });
    const root = tree({
      "apps/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n",
    });
    symlinkSync(join(outside, "token.yaml"), join(root, "apps", "link.yaml"));
    symlinkSync(outside, join(root, "apps", "dir-link"));
    const items = await renderSource(input(root, "apps"));
    expect(items.map((i) => i.object.metadata.name)).toEqual(["ok"]);
    expect((await rejected(renderSource(input(root, "../")))).code).toBe(
      ErrorCodes.RENDER_PATH_INVALID,
    );
    expect((await rejected(renderSource(input(root, "nope")))).message).toBe(
      'spec.path "nope" does not exist in the repository',
    );
  });

  it("refuses a SOPS file when spec.decryption is not set, naming the file", async () => {
    const root = tree({ "apps/secret.yaml": fixture("kc-history/secret.age.v2-3.7.0.yaml") });
    const err = await rejected(renderSource(input(root, "apps")));
    expect(err.code).toBe(ErrorCodes.RENDER_SOPS_UNAVAILABLE);
    expect(err.message).toBe(
      "apps/secret.yaml is SOPS-encrypted and spec.decryption.secretRef is not set",
    );
  });
});

describe("SOPS files", () => {
  const withKeys = async (root: string, path = "."): Promise<RenderInput> => ({
    ...input(root, path),
    sops: sopsFiles(await decryptionKeys("apps/sops-age", ageKeySecretData(), false)),
  });

  it("decrypts a file written by the real sops, MAC verified, in memory", async () => {
    const root = tree({ "secret.yaml": fixture("kc-history/secret.age.v2-3.7.0.yaml") });
    const [secret] = await renderSource(await withKeys(root));
    expect(secret?.object["stringData"]).toEqual({ secret: "my-sops-age-secret" });
    expect(secret?.object["sops"]).toBeUndefined();
  });

  it("refuses a tampered file: the MAC no longer matches", async () => {
    const tampered = fixture("kc-history/secret.age.v2-3.7.0.yaml").replace(
      "name: sops-age",
      "name: sops-agf",
    );
    const root = tree({ "secret.yaml": tampered });
    const err = await rejected(renderSource(await withKeys(root)));
    expect(err.code).toBe(ErrorCodes.RENDER_SOPS_FAILED);
    expect(err.message).toMatch(/^cannot decrypt secret\.yaml: .*MAC/);
  });

  it("builds a kustomization whose secretGenerator reads a SOPS .env file, and leaves no copy behind", async () => {
    const root = tree({
      "kustomization.yaml":
        "secretGenerator:\n  - name: env\n    envs: [secret.env]\ngeneratorOptions: {disableNameSuffixHash: true}\n",
      "secret.env": fixture("kc/envs-env.env"),
    });
    const [secret] = await renderSource(await withKeys(root));
    expect(secret?.object["data"]).toEqual({ key: Buffer.from("value").toString("base64") });
    expect(await readdir(scratch)).toEqual([]);
    const err = await rejected(renderSource(input(root)));
    expect(err.message).toBe(
      "secret.env is SOPS-encrypted and spec.decryption.secretRef is not set",
    );
  });

  it("needs an *.agekey or sops.aws-kms entry in the decryption Secret", async () => {
    const err = await rejected(decryptionKeys("apps/empty", { "age.txt": "eA==" }, false));
    expect(err.message).toBe(
      "Secret apps/empty (spec.decryption.secretRef) has no *.agekey or sops.aws-kms entry",
    );
    // Unless the controller lends its own AWS identity: then no entry is needed.
    expect(await decryptionKeys("apps/empty", { "age.txt": "eA==" }, true)).toEqual({ age: [] });
  });
});

describe("the decryption Secret's sops.aws-kms entry (Flux's static credentials)", () => {
  const b64 = (text: string): string => Buffer.from(text).toString("base64");
  const keysOf = (text: string): ReturnType<typeof decryptionKeys> =>
    decryptionKeys("apps/sops-kms", { "sops.aws-kms": b64(text) }, false);

  it("reads the access key, the secret key and an optional session token", async () => {
    expect(await keysOf("aws_access_key_id: AKIA1\naws_secret_access_key: s3cr3t\n")).toEqual({
      age: [],
      aws: { accessKeyId: "AKIA1", secretAccessKey: "s3cr3t" },
    });
    const withToken = await keysOf(
      "aws_access_key_id: AKIA1\naws_secret_access_key: s3cr3t\naws_session_token: tok\n",
    );
    expect(withToken.aws).toEqual({
      accessKeyId: "AKIA1",
      secretAccessKey: "s3cr3t",
      sessionToken: "tok",
    });
  });

  it("keeps the age keys beside it", async () => {
    const keys = await decryptionKeys(
      "apps/both",
      {
        ...ageKeySecretData(),
        "sops.aws-kms": b64("aws_access_key_id: A\naws_secret_access_key: B"),
      },
      false,
    );
    expect(keys.age).toHaveLength(1);
    expect(keys.aws).toEqual({ accessKeyId: "A", secretAccessKey: "B" });
  });

  it.each([
    ["a missing secret key", "aws_access_key_id: AKIA1\n", "has no aws_secret_access_key"],
    ["a missing access key", "aws_secret_access_key: hunter2-value\n", "has no aws_access_key_id"],
    [
      "a number where a string belongs",
      "aws_access_key_id: 12345\naws_secret_access_key: hunter2-value\n",
      "field aws_access_key_id must be a non-empty string",
    ],
    [
      "broken YAML around the secret",
      'aws_access_key_id: "AKIA1\naws_secret_access_key: [hunter2-value\n',
      "is not a YAML mapping of aws_access_key_id, aws_secret_access_key",
    ],
    [
      "a list",
      "- hunter2-value\n",
      "is not a YAML mapping of aws_access_key_id, aws_secret_access_key",
    ],
  ])(
    "refuses %s with a message that names the Secret and never quotes it",
    async (_, text, why) => {
      const err = await rejected(keysOf(text));
      expect(err.code).toBe(ErrorCodes.RENDER_SOPS_FAILED);
      expect(err.message).toBe(`Secret apps/sops-kms key sops.aws-kms ${why}`);
      expect(err.message).not.toContain("hunter2");
    },
  );

  it("without credentials, a KMS key is refused with where to put them", async () => {
    const files = sopsFiles({ age: [] }, { ambientCredentials: false }, "Secret apps/sops-age");
    // The file's age key swapped for a KMS key (the MAC is never reached: no key opens it).
    const kmsOnly = fixture("kc-history/secret.age.v2-3.7.0.yaml")
      .replace(
        "    kms: []\n",
        "    kms:\n        - arn: arn:aws:kms:eu-west-1:123456789012:key/k\n" +
          '          created_at: "2024-01-01T00:00:00Z"\n          enc: AQID\n          aws_profile: ""\n',
      )
      .replace(/ {4}age:\n[\s\S]*?-----END AGE ENCRYPTED FILE-----\n/, "    age: []\n");
    const err = await rejected(files.decrypt("secret.yaml", Buffer.from(kmsOnly)));
    files.close();
    expect(err.message).toContain(
      "no AWS credentials: add a sops.aws-kms entry to Secret apps/sops-age",
    );
  });
});
