import { beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../../src/errors.js";
import { Keyring } from "../../../src/crypto/sealing/keyring.js";
import { generateSealingKey, type GeneratedKey } from "../../../src/crypto/sealing/keygen.js";
import {
  CLUSTER_WIDE_ANNOTATION,
  NAMESPACE_WIDE_ANNOTATION,
} from "../../../src/crypto/sealing/scope.js";
import {
  readSecret,
  sealRawValue,
  sealSecret,
  type SealOptions,
} from "../../../src/crypto/sealing/seal.js";
import {
  BITNAMI_API_VERSION,
  readSealedSecret,
} from "../../../src/crypto/sealing/sealed-secret.js";
import { unsealSealedSecret } from "../../../src/crypto/sealing/unseal.js";
import { decodeBase64 } from "../../../src/crypto/sealing/base64.js";
import { splitSealedValue } from "../../../src/crypto/sealing/hybrid.js";

let key: GeneratedKey;
let ring: Keyring;
beforeAll(async () => {
  key = await generateSealingKey({ now: Date.UTC(2026, 0, 1) });
  ring = new Keyring([key.key]);
});

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err: unknown) {
    return err;
  }
  throw new Error("expected a throw");
}

const secretDoc = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "db", namespace: "prod", labels: { app: "db" } },
  type: "Opaque",
  data: { password: Buffer.from("hunter2").toString("base64"), bin: "AAEC/w==" },
  ...extra,
});

const seal = (doc: unknown, options: Partial<SealOptions> = {}): ReturnType<typeof sealSecret> =>
  sealSecret(readSecret(doc, "stdin"), { publicKey: key.key.publicKey, ...options });

function open(ss: unknown): Record<string, string> {
  const unsealed = unsealSealedSecret(readSealedSecret(ss, "test"), { keyring: ring });
  return Object.fromEntries([...unsealed.values].map(([k, v]) => [k, v.toString("latin1")]));
}

describe("readSecret", () => {
  it("merges stringData over data, as the API server does", () => {
    const secret = readSecret(
      secretDoc({ stringData: { password: "from-stringData", user: "u" } }),
      "x",
    );
    expect([...secret.items.keys()].sort()).toEqual(["bin", "password", "user"]);
    expect(secret.items.get("password")?.toString()).toBe("from-stringData");
    expect(secret.items.get("bin")).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it("turns YAML scalars into the strings kubectl would send", () => {
    const secret = readSecret(
      secretDoc({
        stringData: { yes: true, port: 5432, none: null },
        metadata: { name: "a", labels: { on: false } },
      }),
      "x",
    );
    expect(secret.items.get("yes")?.toString()).toBe("true");
    expect(secret.items.get("port")?.toString()).toBe("5432");
    expect(secret.items.get("none")?.toString()).toBe("");
    expect(secret.metadata.labels).toEqual({ on: "false" });
  });

  it("names the document and the item for bad input, never the value", () => {
    const bad = caught(() =>
      readSecret(secretDoc({ data: { password: "hunter2!" } }), "document 2"),
    );
    expect(bad).toMatchObject({
      code: ErrorCodes.SEAL_INPUT_INVALID,
      message: "document 2: data.password is not valid base64 (use stringData for plain text)",
    });
    expect(caught(() => readSecret({ kind: "ConfigMap" }, "stdin"))).toMatchObject({
      message: "stdin: is a ConfigMap, not a Secret",
    });
    expect(
      caught(() => readSecret(secretDoc({ stringData: { a: { b: 1 } } }), "stdin")),
    ).toMatchObject({
      message: "stdin: stringData.a must be a string",
    });
  });
});

describe("sealSecret", () => {
  it("writes what kubeseal writes, in our group by default", () => {
    const ss = seal(
      secretDoc({
        metadata: {
          name: "db",
          namespace: "prod",
          labels: { app: "db" },
          annotations: { note: "n", "kubectl.kubernetes.io/last-applied-configuration": "{...}" },
          uid: "u-1",
          resourceVersion: "7",
          creationTimestamp: "2026-01-01T00:00:00Z",
          managedFields: [{}],
          ownerReferences: [{}],
        },
      }),
    );
    expect(ss.apiVersion).toBe("gitops-guard.io/v1alpha1");
    expect(ss.kind).toBe("SealedSecret");
    expect(ss.metadata).toEqual({ name: "db", namespace: "prod" });
    expect(ss.spec.template).toEqual({
      metadata: {
        name: "db",
        namespace: "prod",
        labels: { app: "db" },
        annotations: { note: "n" },
      },
      type: "Opaque",
    });
    expect(Object.keys(ss.spec.encryptedData)).toEqual(["bin", "password"]);
    expect(open(ss)).toEqual({ bin: "\u0000\u0001\u0002\u00ff", password: "hunter2" });
  });

  it("emits Bitnami's kind when asked", () => {
    expect(seal(secretDoc(), { apiVersion: BITNAMI_API_VERSION }).apiVersion).toBe(
      "bitnami.com/v1alpha1",
    );
  });

  it.each([
    ["namespace-wide", { [NAMESPACE_WIDE_ANNOTATION]: "true" }],
    ["cluster-wide", { [CLUSTER_WIDE_ANNOTATION]: "true" }],
  ] as const)("puts --scope %s in both metadata and template annotations", (scope, annotations) => {
    const ss = seal(secretDoc(), { scope });
    expect(ss.metadata.annotations).toEqual(annotations);
    expect(ss.spec.template?.metadata?.annotations).toEqual(annotations);
    expect(open(ss).password).toBe("hunter2");
  });

  it("takes the scope from the Secret's annotations when no --scope is given", () => {
    const doc = secretDoc({
      metadata: {
        name: "db",
        namespace: "prod",
        annotations: { [CLUSTER_WIDE_ANNOTATION]: "true" },
      },
    });
    const ss = seal(doc);
    expect(ss.metadata.annotations).toEqual({ [CLUSTER_WIDE_ANNOTATION]: "true" });
    const moved = { ...ss, metadata: { ...ss.metadata, name: "other", namespace: "elsewhere" } };
    expect(open(moved).password).toBe("hunter2");
  });

  it("applies kubeseal's namespace rules", () => {
    const noNamespace = secretDoc({ metadata: { name: "db" } });
    expect(seal(noNamespace, { namespaceFlag: "dev" }).metadata.namespace).toBe("dev");
    expect(seal(noNamespace, { defaultNamespace: "default" }).metadata.namespace).toBe("default");
    expect(caught(() => seal(secretDoc(), { namespaceFlag: "dev" }))).toMatchObject({
      code: ErrorCodes.SEAL_NAMESPACE_MISMATCH,
      message:
        'namespace mismatch: the Secret prod/db is in namespace "prod" but -n "dev" was given',
    });
    expect(caught(() => seal(noNamespace))).toMatchObject({ code: ErrorCodes.SEAL_INPUT_INVALID });
    const clusterWide = seal(noNamespace, { scope: "cluster-wide" });
    expect(clusterWide.metadata.namespace).toBeUndefined();
    expect(
      open({ ...clusterWide, metadata: { ...clusterWide.metadata, namespace: "any" } }).password,
    ).toBe("hunter2");
  });

  it("refuses empty data unless allowed, and a Secret without a name", () => {
    const empty = secretDoc({ data: undefined });
    expect(caught(() => seal(empty))).toMatchObject({
      code: ErrorCodes.SEAL_INPUT_INVALID,
      message: expect.stringContaining("--allow-empty-data") as unknown,
    });
    expect(seal(empty, { allowEmptyData: true }).spec.encryptedData).toEqual({});
    expect(caught(() => seal(secretDoc({ metadata: { namespace: "prod" } })))).toMatchObject({
      message: "the Secret has no metadata.name (give --name)",
    });
    expect(seal(secretDoc(), { name: "renamed" }).metadata.name).toBe("renamed");
  });

  it("seals a raw value for a place without a Secret", () => {
    const raw = sealRawValue(key.key.publicKey, Buffer.from("raw"), "namespace-wide", {
      namespace: "prod",
      name: "",
    });
    const parts = splitSealedValue(decodeBase64(raw)!, ring.blockSizes());
    expect(ring.open(parts, Buffer.from("prod"))?.plaintext.toString()).toBe("raw");
  });
});
