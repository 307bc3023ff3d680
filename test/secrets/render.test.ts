import { beforeAll, describe, expect, it } from "vitest";
import { Keyring } from "../../src/crypto/sealing/keyring.js";
import { generateSealingKey, type GeneratedKey } from "../../src/crypto/sealing/keygen.js";
import { readSecret, sealSecret } from "../../src/crypto/sealing/seal.js";
import { readSealedSecret, type SealedSecret } from "../../src/crypto/sealing/sealed-secret.js";
import { unsealSealedSecret } from "../../src/crypto/sealing/unseal.js";
import type { KubeObject } from "../../src/kube/objects.js";
import {
  MANAGED_ANNOTATION,
  OWNED_LABEL,
  OWNED_VALUE,
  TEMPLATE_HASH_ANNOTATION,
} from "../../src/secrets/names.js";
import {
  desiredSecret,
  ownership,
  sealedSecretKeysFor,
  secretUpToDate,
  templateHash,
} from "../../src/secrets/render.js";

const PASSWORD = "s3cr3t-render-value";
let key: GeneratedKey;
let ring: Keyring;

beforeAll(async () => {
  key = await generateSealingKey({ now: Date.UTC(2026, 0, 1), bits: 2048 });
  ring = new Keyring([key.key]);
});

function sealed(extra: Record<string, unknown> = {}): SealedSecret {
  const doc = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db", namespace: "prod", labels: { app: "db" } },
    type: "kubernetes.io/basic-auth",
    stringData: { password: PASSWORD, username: "admin" },
    ...extra,
  };
  const ss = sealSecret(readSecret(doc, "t"), { publicKey: key.key.publicKey });
  return readSealedSecret(JSON.parse(JSON.stringify(ss)), "t");
}

function desired(ss: SealedSecret, uid = "uid-1"): KubeObject {
  return desiredSecret(unsealSealedSecret(ss, { keyring: ring, ownerUid: uid }).secret);
}

/** What the API server would hand back for an applied Secret. */
function live(obj: KubeObject, patch: Partial<KubeObject["metadata"]> = {}): KubeObject {
  const copy = JSON.parse(JSON.stringify(obj)) as KubeObject;
  return { ...copy, metadata: { ...copy.metadata, uid: "s-1", resourceVersion: "7", ...patch } };
}

describe("desiredSecret", () => {
  it("is the unsealed Secret with its owner, type and a template hash, named like the SealedSecret", () => {
    const secret = desired(sealed());
    expect(secret.metadata).toMatchObject({
      name: "db",
      namespace: "prod",
      labels: { app: "db" },
      ownerReferences: [
        {
          apiVersion: "gitops-guard.io/v1alpha1",
          kind: "SealedSecret",
          name: "db",
          uid: "uid-1",
          controller: true,
        },
      ],
    });
    expect(secret["type"]).toBe("kubernetes.io/basic-auth");
    const data = secret["data"] as Record<string, string>;
    expect(Buffer.from(data["password"] ?? "", "base64").toString()).toBe(PASSWORD);
    const hash = secret.metadata.annotations?.[TEMPLATE_HASH_ANNOTATION] ?? "";
    expect(hash).toMatch(/^[0-9a-f]{32}$/);
    expect(hash).not.toContain(PASSWORD);
  });

  it("defaults the type to Opaque and changes the hash only with the non-secret parts", () => {
    const a = desired(sealed({ type: undefined }));
    expect(a["type"]).toBe("Opaque");
    const b = desired(sealed({ type: undefined }));
    // Sealed twice (other ciphertexts), same plaintext and template: same hash.
    expect(b.metadata.annotations).toEqual(a.metadata.annotations);
    const relabelled = desired(
      sealed({
        type: undefined,
        metadata: { name: "db", namespace: "prod", labels: { app: "x" } },
      }),
    );
    expect(relabelled.metadata.annotations?.[TEMPLATE_HASH_ANNOTATION]).not.toBe(
      a.metadata.annotations?.[TEMPLATE_HASH_ANNOTATION],
    );
  });
});

describe("the owned label", () => {
  it("is on every desired Secret, over a template's own value, and outside the template hash", () => {
    const plain = sealed();
    const unsealed = unsealSealedSecret(plain, { keyring: ring, ownerUid: "uid-1" }).secret;
    const want = desiredSecret(unsealed);
    expect(want.metadata.labels).toEqual({ app: "db", [OWNED_LABEL]: OWNED_VALUE });
    expect(want.metadata.annotations?.[TEMPLATE_HASH_ANNOTATION]).toBe(templateHash(unsealed));
    const claimed = desired(
      sealed({
        metadata: { name: "db", namespace: "prod", labels: { app: "db", [OWNED_LABEL]: "me" } },
      }),
    );
    expect(claimed.metadata.labels?.[OWNED_LABEL]).toBe(OWNED_VALUE);
  });

  it("makes a Secret written before it existed (or stripped of it) out of date", () => {
    const want = desired(sealed());
    const { [OWNED_LABEL]: _, ...earlier } = want.metadata.labels ?? {};
    expect(secretUpToDate(live(want, { labels: earlier }), want)).toBe(false);
    expect(secretUpToDate(live(want), want)).toBe(true);
  });
});

describe("secretUpToDate", () => {
  it("is true for the Secret as applied, with fields other writers added", () => {
    const want = desired(sealed());
    const applied = live(want, {
      labels: { ...want.metadata.labels, extra: "x" },
      annotations: { ...want.metadata.annotations, note: "y" },
    });
    expect(secretUpToDate(applied, want)).toBe(true);
  });

  it("is false when absent, being deleted, or when data, labels, type or template differ", () => {
    const want = desired(sealed());
    const data = want["data"] as Record<string, string>;
    const cases: (KubeObject | undefined)[] = [
      undefined,
      live(want, { deletionTimestamp: "2026-01-01T00:00:00Z" }),
      { ...live(want), data: { ...data, password: Buffer.from("edited").toString("base64") } },
      { ...live(want), data: { ...data, added: "eA==" } },
      { ...live(want), data: { username: data["username"] ?? "" } },
      live(want, { labels: {} }),
      { ...live(want), type: "Opaque" },
      live(want, { annotations: { [TEMPLATE_HASH_ANNOTATION]: "0".repeat(32) } }),
    ];
    for (const c of cases) expect(secretUpToDate(c, want)).toBe(false);
  });
});

describe("ownership", () => {
  const ss = (): SealedSecret => sealed();
  const secret = (meta: Partial<KubeObject["metadata"]>): KubeObject => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db", namespace: "prod", ...meta },
  });
  const owner = (over: Record<string, unknown> = {}): KubeObject["metadata"] => ({
    ownerReferences: [
      {
        apiVersion: "gitops-guard.io/v1alpha1",
        kind: "SealedSecret",
        name: "db",
        uid: "old-uid",
        controller: true,
        ...over,
      },
    ],
  });

  it("tells absent, owned (any incarnation of the same SealedSecret), managed and foreign apart", () => {
    expect(ownership(undefined, ss())).toBe("absent");
    expect(ownership(secret(owner()), ss())).toBe("owned");
    expect(ownership(secret({}), ss())).toBe("foreign");
    expect(ownership(secret({ annotations: { [MANAGED_ANNOTATION]: "true" } }), ss())).toBe(
      "managed",
    );
    expect(ownership(secret({ annotations: { [MANAGED_ANNOTATION]: "yes" } }), ss())).toBe(
      "foreign",
    );
    expect(ownership(secret(owner({ controller: false })), ss())).toBe("foreign");
    expect(ownership(secret(owner({ apiVersion: "bitnami.com/v1alpha1" })), ss())).toBe("foreign");
    expect(ownership(secret(owner({ name: "other" })), ss())).toBe("foreign");
  });
});

describe("sealedSecretKeysFor", () => {
  it("maps owner references and the same-named SealedSecret to queue keys", () => {
    const secret: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "db",
        namespace: "prod",
        ownerReferences: [
          { apiVersion: "gitops-guard.io/v1alpha1", kind: "SealedSecret", name: "owner", uid: "1" },
          { apiVersion: "bitnami.com/v1alpha1", kind: "SealedSecret", name: "bitnami", uid: "2" },
          { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "3" },
        ],
      },
    };
    const exists = (key: string): boolean => key === "prod/db";
    expect(sealedSecretKeysFor(secret, "gitops-guard.io/v1alpha1", exists).sort()).toEqual([
      "prod/db",
      "prod/owner",
    ]);
    expect(sealedSecretKeysFor(secret, "gitops-guard.io/v1alpha1", () => false)).toEqual([
      "prod/owner",
    ]);
  });
});
