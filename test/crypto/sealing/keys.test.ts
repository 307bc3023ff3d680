import { generateKeyPairSync, X509Certificate } from "node:crypto";
import forge from "node-forge";
import { beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../../src/errors.js";
import {
  assertCertificateCurrent,
  parseCertificate,
} from "../../../src/crypto/sealing/certificate.js";
import { hybridEncrypt, splitSealedValue } from "../../../src/crypto/sealing/hybrid.js";
import {
  BITNAMI_KEY_SECRET_LABEL,
  KEY_SECRET_LABEL,
  keyFromSecret,
  keySecret,
  keysFromDocuments,
} from "../../../src/crypto/sealing/key-secret.js";
import { Keyring, sealingKey } from "../../../src/crypto/sealing/keyring.js";
import { generateSealingKey, type GeneratedKey } from "../../../src/crypto/sealing/keygen.js";
import { keyFromPem, parsePrivateKeysPem } from "../../../src/crypto/sealing/keys.js";

const NOW = Date.UTC(2026, 5, 1);
const HOUR = 3_600_000;
let main: GeneratedKey;
let named: GeneratedKey;

beforeAll(async () => {
  [main, named] = await Promise.all([
    generateSealingKey({ now: NOW }),
    generateSealingKey({ now: NOW + HOUR, commonName: "sealed-secret", validForMs: 2 * HOUR }),
  ]);
});

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err: unknown) {
    return err;
  }
  throw new Error("expected a throw");
}

describe("generateSealingKey", () => {
  it("makes an RSA-4096 key with e = 65537 and a PKCS#1 PEM, as Bitnami's tls.key", () => {
    const jwk = main.key.publicKey.export({ format: "jwk" });
    expect(Buffer.from(jwk.n!, "base64url").length).toBe(512);
    expect(jwk.e).toBe("AQAB");
    expect(main.privateKeyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(main.key.since).toBe(NOW);
  });

  it("certifies it the way Bitnami's controller does", () => {
    const cert = forge.pki.certificateFromPem(main.certificatePem);
    expect(cert.version).toBe(2); // X.509 v3
    expect(cert.serialNumber.replace(/^00/, "").length).toBeLessThanOrEqual(32);
    expect(cert.subject.attributes).toEqual([]);
    expect(cert.issuer.attributes).toEqual([]);
    expect(cert.validity.notBefore.getTime()).toBe(NOW);
    expect(cert.validity.notAfter.getTime()).toBe(NOW + 87_600 * HOUR);
    expect(cert.siginfo.algorithmOid).toBe(forge.pki.oids.sha256WithRSAEncryption);
    const keyUsage = cert.getExtension("keyUsage") as Record<string, unknown>;
    expect(keyUsage).toMatchObject({ critical: true, encipherOnly: true });
    for (const usage of ["digitalSignature", "keyEncipherment", "keyCertSign", "keyAgreement"]) {
      expect(keyUsage[usage], usage).toBe(false);
    }
    expect(cert.getExtension("basicConstraints")).toMatchObject({ critical: true, cA: true });
    expect(cert.getExtension("subjectKeyIdentifier")).toBeTruthy();
    expect(cert.getExtension("authorityKeyIdentifier")).toBeNull();
    const native = new X509Certificate(main.certificatePem);
    expect(native.verify(main.key.publicKey)).toBe(true);
    expect(native.checkPrivateKey(main.key.privateKey)).toBe(true);
  });

  it("writes a random serial below 2^128 as a positive DER INTEGER", async () => {
    const small = await generateSealingKey({ now: NOW, bits: 1024 });
    const pems = [main.certificatePem, named.certificatePem, small.certificatePem];
    // forge keeps the INTEGER's content bytes, sign byte included.
    const serials = pems.map((pem) => forge.pki.certificateFromPem(pem).serialNumber);
    expect(new Set(serials).size).toBe(3);
    for (const serial of serials) {
      const bytes = Buffer.from(serial, "hex");
      expect((bytes[0] ?? 0) & 0x80).toBe(0);
      expect(BigInt(`0x${serial}`) < 2n ** 128n).toBe(true);
    }
  });

  it("uses the common name and validity it is given", () => {
    const cert = parseCertificate(named.certificatePem, "named.pem");
    expect(cert.subject).toBe("CN=sealed-secret");
    expect(cert.notAfter - cert.notBefore).toBe(2 * HOUR);
    expect(cert.fingerprint).toBe(named.key.fingerprint);
  });
});

describe("parseCertificate", () => {
  it("takes the first certificate of a PEM bundle", () => {
    const cert = parseCertificate(main.certificatePem + named.certificatePem, "bundle.pem");
    expect(cert.fingerprint).toBe(main.key.fingerprint);
  });

  it("explains what was given instead of a certificate", () => {
    expect(caught(() => parseCertificate(main.privateKeyPem, "key.pem"))).toMatchObject({
      code: ErrorCodes.SEAL_CERT_INVALID,
      message: expect.stringContaining("it holds a private key") as unknown,
    });
    const pub = main.key.publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(caught(() => parseCertificate(pub, "pub.pem"))).toMatchObject({
      message: expect.stringContaining("bare public key") as unknown,
    });
    const broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    expect(caught(() => parseCertificate(broken, "x.pem"))).toMatchObject({
      code: ErrorCodes.SEAL_CERT_INVALID,
      message: expect.stringContaining("x.pem: the certificate cannot be parsed") as unknown,
    });
  });

  it("refuses an expired certificate, naming the day and the key", () => {
    const cert = parseCertificate(named.certificatePem, "named.pem");
    expect(() => {
      assertCertificateCurrent(cert, NOW + 2 * HOUR, "named.pem");
    }).not.toThrow();
    const expired = caught(() => {
      assertCertificateCurrent(cert, NOW + 4 * HOUR, "named.pem");
    });
    expect(expired).toMatchObject({
      code: ErrorCodes.SEAL_CERT_EXPIRED,
      message: expect.stringContaining(`expired on 2026-06-01`) as unknown,
    });
  });
});

describe("private keys from PEM", () => {
  it("reads PKCS#1 and PKCS#8 RSA keys, several in one text", () => {
    const pkcs8 = main.key.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const keys = parsePrivateKeysPem(`${main.privateKeyPem}\n${pkcs8}`, "keys.pem");
    expect(keys.map((k) => sealingKey(k).fingerprint)).toEqual([
      main.key.fingerprint,
      main.key.fingerprint,
    ]);
    expect(parsePrivateKeysPem("no keys here", "x")).toEqual([]);
  });

  it("refuses a non-RSA key and a certificate that belongs to another key", () => {
    const ed = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" });
    expect(caught(() => parsePrivateKeysPem(ed.toString(), "ed.pem"))).toMatchObject({
      code: ErrorCodes.KEYS_INVALID,
      message: "ed.pem: the private key is ed25519, sealing keys are RSA",
    });
    expect(caught(() => keyFromPem(main.privateKeyPem, named.certificatePem, "k"))).toMatchObject({
      code: ErrorCodes.KEYS_MISMATCH,
    });
  });

  it("orders a key by its certificate's NotBefore", () => {
    const key = keyFromPem(named.privateKeyPem, named.certificatePem, "named");
    expect(key.since).toBe(NOW + HOUR);
    expect(key.certificatePem).toBe(named.certificatePem);
  });
});

describe("key Secrets", () => {
  it("round-trips a key through a kubernetes.io/tls Secret with the active label", () => {
    const secret = keySecret(main, { namespace: "gitops-guard-system", name: "sealing-key-1" });
    expect(secret).toMatchObject({
      type: "kubernetes.io/tls",
      metadata: { labels: { [KEY_SECRET_LABEL]: "active" } },
    });
    expect(keyFromSecret(secret, "backup.yaml").fingerprint).toBe(main.key.fingerprint);
  });

  it("reads Bitnami key Secrets inside a v1 List, as in a kubectl backup", () => {
    const bitnami = {
      ...keySecret(named, { namespace: "kube-system", name: "sealed-secrets-keyx7b2q" }),
      metadata: {
        name: "sealed-secrets-keyx7b2q",
        namespace: "kube-system",
        labels: { [BITNAMI_KEY_SECRET_LABEL]: "active" },
      },
    };
    const list = {
      apiVersion: "v1",
      kind: "List",
      items: [bitnami, keySecret(main, bitnami.metadata)],
    };
    const keys = keysFromDocuments([list], "backup.yaml");
    expect(keys.map((k) => k.fingerprint)).toEqual([named.key.fingerprint, main.key.fingerprint]);
  });

  it("names the Secret that is not a key Secret", () => {
    const doc = { apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "prod" } };
    expect(caught(() => keysFromDocuments([doc], "backup.yaml"))).toMatchObject({
      code: ErrorCodes.KEYS_INVALID,
      message: 'backup.yaml: Secret prod/db: has no data["tls.key"]: not a sealing key Secret',
    });
    expect(caught(() => keysFromDocuments([], "empty.yaml"))).toMatchObject({
      code: ErrorCodes.KEYS_NONE,
    });
  });
});

describe("Keyring", () => {
  let small: GeneratedKey[];
  beforeAll(async () => {
    small = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => generateSealingKey({ now: NOW + i * HOUR, bits: 2048 })),
    );
  });

  it("seals with the newest key and knows every key, newest first", () => {
    const ring = new Keyring(small.map((g) => g.key));
    expect(ring.latest()?.fingerprint).toBe(small[4]!.key.fingerprint);
    expect(ring.keys().map((k) => k.since)).toEqual([4, 3, 2, 1, 0].map((i) => NOW + i * HOUR));
    expect(ring.add(small[0]!.key)).toBe(false);
    expect(ring.size).toBe(5);
  });

  it("opens values of one old key with about one RSA operation each", () => {
    const ring = new Keyring(small.map((g) => g.key));
    const label = Buffer.from("prod/db");
    const values = Array.from({ length: 10 }, (_, i) => {
      const sealed = hybridEncrypt(small[0]!.key.publicKey, Buffer.from(`value-${i}`), label);
      return splitSealedValue(sealed, ring.blockSizes());
    });
    const opened = values.map((v) => ring.open(v, label));
    expect(opened.map((o) => o?.plaintext.toString())).toEqual(values.map((_, i) => `value-${i}`));
    expect(new Set(opened.map((o) => o?.fingerprint))).toEqual(
      new Set([small[0]!.key.fingerprint]),
    );
    // The first value may try all 5 keys; every later one goes to the key that worked.
    expect(ring.rsaOperations).toBeLessThanOrEqual(5 + 9);
    const before = ring.rsaOperations;
    for (const v of values) ring.open(v, label);
    expect(ring.rsaOperations - before).toBe(10);
  });

  it("remembers which key opened a block, so resyncs of mixed objects stay cheap", () => {
    const ring = new Keyring(small.map((g) => g.key));
    const label = Buffer.from("");
    const values = small.map((g) =>
      splitSealedValue(hybridEncrypt(g.key.publicKey, Buffer.from("v"), label), ring.blockSizes()),
    );
    for (const v of values) ring.open(v, label);
    const before = ring.rsaOperations;
    for (const v of [...values].reverse()) expect(ring.open(v, label)).toBeDefined();
    expect(ring.rsaOperations - before).toBe(values.length);
  });

  it("does not try keys whose size cannot fit the block", () => {
    const ring = new Keyring([...small.map((g) => g.key), main.key]);
    const label = Buffer.from("a/b");
    const parts = splitSealedValue(
      hybridEncrypt(main.key.publicKey, Buffer.from("v"), label),
      ring.blockSizes(),
    );
    expect(ring.open(parts, label)?.fingerprint).toBe(main.key.fingerprint);
    expect(ring.rsaOperations).toBe(1);
  });
});
