/**
 * keys usage and keys reencrypt on a real folder of manifests: values sealed for an old and a
 * new key, a multi-document file, JSON, a non-manifest file, a .git folder, a tampered value.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "../../src/crypto/sealing/base64.js";
import { generateSealingKey, type GeneratedKey } from "../../src/crypto/sealing/keygen.js";
import { Keyring } from "../../src/crypto/sealing/keyring.js";
import { readSecret, sealSecret } from "../../src/crypto/sealing/seal.js";
import { readSealedSecret, type SealedSecret } from "../../src/crypto/sealing/sealed-secret.js";
import { unsealSealedSecret } from "../../src/crypto/sealing/unseal.js";
import { gitopsGuard, workdir } from "./harness.js";

const files = workdir("keys-rotation");
let older: GeneratedKey;
let newer: GeneratedKey;
let keysFile: string;
/** A folder of manifests every test copies before it runs. */
let template: string;

function sealed(
  key: GeneratedKey,
  name: string,
  data: Record<string, string>,
  apiVersion?: string,
): SealedSecret {
  const secret = readSecret(
    { kind: "Secret", metadata: { name, namespace: "shop" }, stringData: data },
    "test",
  );
  return sealSecret(secret, {
    publicKey: key.key.publicKey,
    ...(apiVersion === undefined ? {} : { apiVersion }),
  });
}

const yaml = (doc: unknown): string => stringify(doc, { lineWidth: 0, version: "1.1" });

/** The same SealedSecret with the last byte (in the AES-GCM tag) of one value flipped. */
function tampered(ss: SealedSecret, key: string): SealedSecret {
  const bytes = decodeBase64(ss.spec.encryptedData[key] ?? "");
  if (bytes === undefined) throw new Error("not base64");
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
  const encryptedData = { ...ss.spec.encryptedData, [key]: encodeBase64(bytes) };
  return { ...ss, spec: { ...ss.spec, encryptedData } };
}

beforeAll(async () => {
  [older, newer] = await Promise.all([
    generateSealingKey({ now: Date.UTC(2026, 0, 1), bits: 2048 }),
    generateSealingKey({ now: Date.UTC(2026, 1, 1), bits: 2048 }),
  ]);
  keysFile = files.write(
    "keys.pem",
    older.privateKeyPem + older.certificatePem + newer.privateKeyPem + newer.certificatePem,
  );
  template = files.path("template");
  mkdirSync(join(template, "apps"), { recursive: true });
  mkdirSync(join(template, ".git"), { recursive: true });
  const put = (name: string, text: string): void => {
    writeFileSync(join(template, name), text);
  };
  put("apps/db.yaml", `# the database\n${yaml(sealed(older, "db", { user: "u", password: "p" }))}`);
  put("apps/api.json", JSON.stringify(sealed(newer, "api", { token: "t" }), null, 2));
  put(
    "multi.yaml",
    [
      "# shop configuration\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg # kept\ndata:\n  a: b\n",
      yaml(sealed(older, "cache", { key: "k" }, "bitnami.com/v1alpha1")),
      yaml(sealed(newer, "queue", { url: "q" })),
    ].join("---\n"),
  );
  put("notes.txt", "SealedSecret: not a manifest\n");
  put(".git/old.yaml", yaml(sealed(older, "hidden", { x: "x" })));
});

/** A fresh copy of the manifests; with `broken`, one more file holding a tampered value. */
function repo(name: string, broken = false): string {
  const dir = files.path(name);
  cpSync(template, dir, { recursive: true });
  if (broken) {
    const ss = tampered(sealed(older, "mail", { smtp: "s", from: "f" }), "smtp");
    writeFileSync(join(dir, "apps/mail.yaml"), yaml(ss));
  }
  return dir;
}

function read(dir: string, name: string): string {
  return readFileSync(join(dir, name), "utf8");
}

function sealedSecretsIn(text: string): SealedSecret[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as { kind?: string })
    .filter((d) => d.kind === "SealedSecret")
    .map((d) => readSealedSecret(d, "test"));
}

/** The fingerprints that open each value, with a keyring holding just `key`. */
function openedWith(ss: SealedSecret, key: GeneratedKey): string[] {
  const { openedWith } = unsealSealedSecret(ss, { keyring: new Keyring([key.key]) });
  return [...openedWith.values()];
}

describe("gitops-guard keys usage", () => {
  it("counts, per key, the SealedSecrets and values sealed for it and names those on the older key", async () => {
    const dir = repo("usage", true);
    const result = await gitopsGuard(["keys", "usage", "--private-key", keysFile, dir]);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    const lines = result.out.split("\n");
    expect(lines[0]).toMatch(/^FINGERPRINT\s+CREATED\s+NEWEST\s+SEALEDSECRETS\s+VALUES$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${escape(newer.key.fingerprint)}\\s+2026-02-01\\s+yes\\s+2\\s+2$`),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^${escape(older.key.fingerprint)}\\s+2026-01-01\\s+no\\s+3\\s+4$`),
    );
    const section = result.out.slice(result.out.indexOf("Still sealed"));
    expect(section).toContain(
      `Still sealed for the older key ${older.key.fingerprint} (2026-01-01):\n`,
    );
    expect(section).toContain(
      `  ${join(dir, "apps/db.yaml")}:1  SealedSecret shop/db: values "password", "user"\n`,
    );
    expect(section).toContain(
      `  ${join(dir, "apps/mail.yaml")}:1  SealedSecret shop/mail: value "from"\n`,
    );
    expect(section).toContain(
      `  ${join(dir, "multi.yaml")}:2  SealedSecret shop/cache: value "key"\n`,
    );
    expect(result.out).not.toContain("api.json");
    expect(result.out).not.toContain(".git");
    expect(result.out).toContain(
      `Values no key opens (1):\n  ${join(dir, "apps/mail.yaml")}:1  SealedSecret shop/mail: ` +
        'value "smtp" was altered after sealing: the key opens its RSA block, but the AES-GCM ' +
        "data or tag fails authentication (GG_UNSEAL_TAMPERED)\n",
    );
    expect(result.out).toMatch(/\n4 manifest files scanned, 5 SealedSecrets\.\n$/);
  });

  it("writes JSON for tools", async () => {
    const dir = repo("usage-json");
    const result = await gitopsGuard([
      "keys",
      "usage",
      "--private-key",
      keysFile,
      dir,
      "-o",
      "json",
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out) as {
      keys: {
        fingerprint: string;
        newest: boolean;
        sealedSecrets: number;
        values: number;
        created: string;
        dependents: {
          file: string;
          document: number;
          apiVersion: string;
          name: string;
          values: string[];
        }[];
      }[];
      unopened: unknown[];
    };
    expect(report.unopened).toEqual([]);
    expect(
      report.keys.map((k) => [k.fingerprint, k.newest, k.sealedSecrets, k.values, k.created]),
    ).toEqual([
      [newer.key.fingerprint, true, 2, 2, "2026-02-01T00:00:00.000Z"],
      [older.key.fingerprint, false, 2, 3, "2026-01-01T00:00:00.000Z"],
    ]);
    expect(
      report.keys[1]?.dependents.map((d) => [d.file, d.document, d.apiVersion, d.name, d.values]),
    ).toEqual([
      [join(dir, "apps/db.yaml"), 1, "gitops-guard.io/v1alpha1", "db", ["password", "user"]],
      [join(dir, "multi.yaml"), 2, "bitnami.com/v1alpha1", "cache", ["key"]],
    ]);
  });

  it("names a path it cannot read", async () => {
    const missing = files.path("no-such-dir");
    const result = await gitopsGuard(["keys", "usage", "--private-key", keysFile, missing]);
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `error GG_UNSEAL_INPUT_INVALID: ${missing}: no such file or directory\n`,
    );
  });
});

describe("gitops-guard keys reencrypt", () => {
  it("moves the values on the older key to the newest, in place, and touches nothing else", async () => {
    const dir = repo("reencrypt");
    const before = {
      db: read(dir, "apps/db.yaml"),
      api: read(dir, "apps/api.json"),
      multi: read(dir, "multi.yaml"),
      hidden: read(dir, ".git/old.yaml"),
    };
    const result = await gitopsGuard(["keys", "reencrypt", "--private-key", keysFile, dir]);
    expect(result.code).toBe(0);
    expect(result.out).toBe(
      `re-encrypted ${join(dir, "apps/db.yaml")}:1 SealedSecret shop/db: 2 of 2 values from ${older.key.fingerprint}\n` +
        `re-encrypted ${join(dir, "multi.yaml")}:2 SealedSecret shop/cache: 1 of 1 values from ${older.key.fingerprint}\n`,
    );
    expect(result.err).toBe(
      `2 SealedSecrets in 2 files re-encrypted for ${newer.key.fingerprint}; 2 already sealed for it; 0 not opened\n`,
    );
    expect(read(dir, "apps/api.json")).toBe(before.api);
    expect(read(dir, ".git/old.yaml")).toBe(before.hidden);

    const db = read(dir, "apps/db.yaml");
    expect(db.startsWith("# the database\napiVersion: gitops-guard.io/v1alpha1\n")).toBe(true);
    const [dbSealed] = sealedSecretsIn(db);
    expect(dbSealed?.spec.encryptedData["user"]).not.toBe(
      sealedSecretsIn(before.db)[0]?.spec.encryptedData["user"],
    );
    expect(openedWith(dbSealed!, newer)).toEqual([newer.key.fingerprint, newer.key.fingerprint]);
    expect(() => unsealSealedSecret(dbSealed!, { keyring: new Keyring([older.key]) })).toThrow(
      /none of the 1 keys held/,
    );
    expect(
      unsealSealedSecret(dbSealed!, { keyring: new Keyring([newer.key]) }).secret.data,
    ).toEqual({
      password: Buffer.from("p").toString("base64"),
      user: Buffer.from("u").toString("base64"),
    });

    const multi = read(dir, "multi.yaml");
    const [configMap, cache, queue] = multi.split("---\n");
    const [oldConfigMap, , oldQueue] = before.multi.split("---\n");
    expect(configMap).toBe(oldConfigMap);
    expect(queue).toBe(oldQueue);
    const [cacheSealed] = sealedSecretsIn(cache ?? "");
    expect(cacheSealed?.apiVersion).toBe("bitnami.com/v1alpha1");
    expect(openedWith(cacheSealed!, newer)).toEqual([newer.key.fingerprint]);

    const again = await gitopsGuard(["keys", "reencrypt", "--private-key", keysFile, dir]);
    expect(again.out).toBe("");
    expect(again.err).toMatch(
      /^0 SealedSecrets in 0 files re-encrypted .*; 4 already sealed for it; 0 not opened\n$/,
    );
    expect(read(dir, "multi.yaml")).toBe(multi);
  });

  it("lists what would change with --dry-run and writes nothing", async () => {
    const dir = repo("dry-run");
    const before = [read(dir, "apps/db.yaml"), read(dir, "multi.yaml")];
    const result = await gitopsGuard([
      "keys",
      "reencrypt",
      "--dry-run",
      "--private-key",
      keysFile,
      dir,
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toBe(
      `would re-encrypt ${join(dir, "apps/db.yaml")}:1 SealedSecret shop/db: 2 of 2 values from ${older.key.fingerprint}\n` +
        `would re-encrypt ${join(dir, "multi.yaml")}:2 SealedSecret shop/cache: 1 of 1 values from ${older.key.fingerprint}\n`,
    );
    expect(result.err).toContain("(dry run: nothing written)");
    expect([read(dir, "apps/db.yaml"), read(dir, "multi.yaml")]).toEqual(before);
  });

  it("reports a tampered value, leaves its file as it was, does the others, and exits 1", async () => {
    const dir = repo("tampered", true);
    const mail = read(dir, "apps/mail.yaml");
    const db = read(dir, "apps/db.yaml");
    const result = await gitopsGuard(["keys", "reencrypt", "--private-key", keysFile, dir]);
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      `error GG_UNSEAL_TAMPERED: ${join(dir, "apps/mail.yaml")}:1: SealedSecret shop/mail: value "smtp" was altered after sealing`,
    );
    expect(result.err).toContain(`left as it was: ${join(dir, "apps/mail.yaml")}\n`);
    expect(result.err).toMatch(
      /error GG_UNSEAL_NOT_VALID: 1 SealedSecrets do not open with the keys given; their files were left as they were\n$/,
    );
    expect(read(dir, "apps/mail.yaml")).toBe(mail);
    expect(read(dir, "apps/db.yaml")).not.toBe(db);
    expect(result.out).toContain(`re-encrypted ${join(dir, "apps/db.yaml")}:1`);
  });

  it("re-encrypts for --cert's key, and keeps a JSON file's layout", async () => {
    const dir = repo("to-cert");
    const cert = files.write("older-cert.pem", older.certificatePem);
    const api = read(dir, "apps/api.json");
    const result = await gitopsGuard([
      "keys",
      "reencrypt",
      "--private-key",
      keysFile,
      "--cert",
      cert,
      join(dir, "apps"),
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toBe(
      `re-encrypted ${join(dir, "apps/api.json")}:1 SealedSecret shop/api: 1 of 1 values from ${newer.key.fingerprint}\n`,
    );
    const text = read(dir, "apps/api.json");
    const token = /"token": "([^"]+)"/.exec(text)?.[1] ?? "";
    expect(text).toBe(api.replace(/"token": "[^"]+"/, `"token": "${token}"`));
    const [ss] = sealedSecretsIn(text);
    expect(openedWith(ss!, older)).toEqual([older.key.fingerprint]);
  });
});

describe("gitops-guard keys reencrypt on hand-written files", () => {
  it("replaces values however they are quoted, in YAML and in a stream of JSON objects", async () => {
    const ss = sealed(older, "styles", { a: "1", b: "2", c: "3", d: "4" });
    const v = ss.spec.encryptedData;
    const text =
      "apiVersion: gitops-guard.io/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: styles\n" +
      "  namespace: shop\nspec:\n  encryptedData:\n" +
      `    a: ${v["a"] ?? ""} # plain\n    b: "${v["b"] ?? ""}"\n    c: '${v["c"] ?? ""}'\n` +
      `    d: |\n      ${v["d"] ?? ""}\n  # end of values\n`;
    const dir = files.path("styles");
    mkdirSync(dir);
    writeFileSync(join(dir, "styles.yaml"), text);
    const stream =
      JSON.stringify(sealed(older, "one", { x: "x" })) +
      "\n" +
      JSON.stringify(sealed(newer, "two", { y: "y" }));
    writeFileSync(join(dir, "stream.json"), stream);
    writeFileSync(
      join(dir, "template.yaml"),
      "kind: SealedSecret\nspec:\n  encryptedData:\n{{- toYaml .Values.sealed | nindent 4 }}\n",
    );
    const result = await gitopsGuard(["keys", "reencrypt", "--private-key", keysFile, dir]);
    expect(result.code).toBe(0);
    expect(result.err).toMatch(
      new RegExp(`^skipped ${escape(join(dir, "template.yaml"))}:1: not valid YAML or JSON: `),
    );
    const out = read(dir, "styles.yaml");
    expect(out).toContain(' # plain\n    b: "');
    expect(out).toContain("\n    c: '");
    expect(out).toMatch(/\n {4}d: "[A-Za-z0-9+/=]+"\n {2}# end of values\n$/);
    const [styles] = sealedSecretsIn(out);
    expect(openedWith(styles!, newer)).toEqual(Array(4).fill(newer.key.fingerprint));
    const lines = read(dir, "stream.json").split("\n");
    expect(lines).toHaveLength(2);
    const one = readSealedSecret(JSON.parse(lines[0] ?? ""), "test");
    expect(openedWith(one, newer)).toEqual([newer.key.fingerprint]);
    expect(lines[1]).toBe(stream.split("\n")[1]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
