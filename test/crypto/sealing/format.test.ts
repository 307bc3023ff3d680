import { execFileSync } from "node:child_process";
import {
  constants,
  createDecipheriv,
  createPublicKey,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  createCipheriv,
} from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../../src/errors.js";
import { decodeBase64, firstBadBase64Offset } from "../../../src/crypto/sealing/base64.js";
import { publicKeyFingerprint } from "../../../src/crypto/sealing/fingerprint.js";
import {
  hybridEncrypt,
  openPayload,
  openSessionKey,
  splitSealedValue,
} from "../../../src/crypto/sealing/hybrid.js";
import { generateSealingKey, type GeneratedKey } from "../../../src/crypto/sealing/keygen.js";
import {
  CLUSTER_WIDE_ANNOTATION,
  NAMESPACE_WIDE_ANNOTATION,
  labelText,
  scopeOf,
  withScopeAnnotations,
} from "../../../src/crypto/sealing/scope.js";

let key: GeneratedKey;
beforeAll(async () => {
  key = await generateSealingKey({ now: Date.UTC(2026, 0, 1) });
});

describe("scopes", () => {
  it("uses Bitnami's labels: ns/name with a slash, ns, and empty", () => {
    expect(labelText("strict", "myns", "myname")).toBe("myns/myname");
    expect(labelText("namespace-wide", "myns", "myname")).toBe("myns");
    expect(labelText("cluster-wide", "myns", "myname")).toBe("");
  });

  it("reads the scope from annotations: only the exact string true counts, cluster-wide wins", () => {
    expect(scopeOf(undefined)).toBe("strict");
    expect(scopeOf({ [NAMESPACE_WIDE_ANNOTATION]: "true" })).toBe("namespace-wide");
    expect(scopeOf({ [NAMESPACE_WIDE_ANNOTATION]: "True" })).toBe("strict");
    expect(scopeOf({ [CLUSTER_WIDE_ANNOTATION]: "yes" })).toBe("strict");
    const both = { [NAMESPACE_WIDE_ANNOTATION]: "true", [CLUSTER_WIDE_ANNOTATION]: "true" };
    expect(scopeOf(both)).toBe("cluster-wide");
  });

  it("rewrites scope annotations and keeps the others", () => {
    const start = { a: "1", [CLUSTER_WIDE_ANNOTATION]: "true" };
    expect(withScopeAnnotations(start, "namespace-wide")).toEqual({
      a: "1",
      [NAMESPACE_WIDE_ANNOTATION]: "true",
    });
    expect(withScopeAnnotations(start, "strict")).toEqual({ a: "1" });
  });
});

describe("base64 as Go's StdEncoding decodes it", () => {
  it("accepts padded standard base64 and ignores CR and LF", () => {
    expect(decodeBase64("aGVsbG8=")?.toString()).toBe("hello");
    expect(decodeBase64("aGVs\r\nbG8=")?.toString()).toBe("hello");
    expect(decodeBase64("")?.length).toBe(0);
  });

  it("refuses what Buffer.from would silently accept", () => {
    for (const bad of ["aGVsbG8", "aGVs bG8=", "aGVsbG8=?", "aGV*bG8=", "a===", "aGVsbG8-"]) {
      expect(decodeBase64(bad), bad).toBeUndefined();
    }
    expect(firstBadBase64Offset("aGV*bG8=")).toBe(3);
    expect(firstBadBase64Offset("aGVsbG8")).toBe(4);
  });
});

describe("publicKeyFingerprint", () => {
  // Computed with `ssh-keygen -lf -E sha256` from this public key.
  const VECTOR_PEM = [
    "-----BEGIN PUBLIC KEY-----",
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAs/9nnXhiVRRx2dxUw4lB",
    "N1QFWO6CN5FB5Dy3cVUjkcQ+BUBYcbI8p+4UdKCZtuyzUO70HSjCbsN0lBnUYaVY",
    "j/DO0ZCJDJvygIMgIdUOMocq8XaGl3WeDM/VMJ+LsrVixzsWDwX9w7/YGWAi5ltI",
    "EZ4qdroV+kINoN/fl4qNd5DYFDBOtLYPC1iY+6/EYePmypSdu9plA7lYz0n3qmXQ",
    "bE/SvKQhYnp6pUlGeOiroJGsusuzxnj5/bjYp1Do0em8+V19iPPwgqV4j3iw3XAe",
    "hkQ2IYA20e472jWDZX6LxaffFDex+2kXduvpKnv1yZVGNmLCsBvB740g2I9wzMXJ",
    "VwIDAQAB",
    "-----END PUBLIC KEY-----",
  ].join("\n");

  it("is the SSH SHA256 fingerprint, as Bitnami's key registry names keys", () => {
    expect(publicKeyFingerprint(createPublicKey(VECTOR_PEM))).toBe(
      "SHA256:/VfsG6Rw1nPw/q3v5m2Pc6X1Vq7GJ6q0OPDXXdoR/aw",
    );
  });

  const sshKeygen = (() => {
    try {
      execFileSync("ssh-keygen", ["-?"], { stdio: "ignore" });
      return true;
    } catch (err: unknown) {
      // ssh-keygen -? exits 1 after printing usage; only a missing binary is ENOENT.
      return (err as { code?: string }).code !== "ENOENT";
    }
  })();

  it.skipIf(!sshKeygen)("matches ssh-keygen for a generated RSA-4096 key", () => {
    const dir = mkdtempSync(join(tmpdir(), "gg-fp-"));
    const pem = join(dir, "pub.pem");
    writeFileSync(pem, key.key.publicKey.export({ type: "spki", format: "pem" }));
    const ssh = execFileSync("ssh-keygen", ["-i", "-m", "PKCS8", "-f", pem], { encoding: "utf8" });
    writeFileSync(join(dir, "pub.ssh"), ssh);
    const out = execFileSync("ssh-keygen", ["-lf", join(dir, "pub.ssh"), "-E", "sha256"], {
      encoding: "utf8",
    });
    expect(out.split(" ")[1]).toBe(key.key.fingerprint);
  });
});

describe("hybrid encryption byte format", () => {
  const label = Buffer.from("ns/name");

  it("is uint16be(512) || RSA-OAEP(SHA-256, label) || AES-256-GCM(zero nonce) || tag", () => {
    const plaintext = Buffer.from("correct horse battery staple");
    const sealed = hybridEncrypt(key.key.publicKey, plaintext, label);
    expect(sealed.readUInt16BE(0)).toBe(512);
    expect(sealed.toString("base64").startsWith("Ag")).toBe(true);
    expect(sealed.length).toBe(2 + 512 + plaintext.length + 16);
    const sessionKey = privateDecrypt(
      {
        key: key.key.privateKey,
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: "sha256",
        oaepLabel: label,
      },
      sealed.subarray(2, 514),
    );
    expect(sessionKey.length).toBe(32);
    const decipher = createDecipheriv("aes-256-gcm", sessionKey, Buffer.alloc(12));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const body = sealed.subarray(514, sealed.length - 16);
    expect(Buffer.concat([decipher.update(body), decipher.final()])).toEqual(plaintext);
  });

  it("uses a fresh session key for every value", () => {
    const a = hybridEncrypt(key.key.publicKey, Buffer.from("same"), label);
    const b = hybridEncrypt(key.key.publicKey, Buffer.from("same"), label);
    expect(a.subarray(514).equals(b.subarray(514))).toBe(false);
  });

  it("seals and opens an empty value (2 + 512 + 16 bytes)", () => {
    const sealed = hybridEncrypt(key.key.publicKey, Buffer.alloc(0), label);
    expect(sealed.length).toBe(530);
    const parts = splitSealedValue(sealed, new Set([512]));
    const sessionKey = openSessionKey(key.key.privateKey, parts.rsaBlock, label);
    expect(sessionKey).toBeDefined();
    expect(openPayload(sessionKey!, parts.aesPart).length).toBe(0);
  });

  it("does not open under another label", () => {
    const sealed = hybridEncrypt(key.key.publicKey, Buffer.from("x"), label);
    const parts = splitSealedValue(sealed, new Set([512]));
    expect(openSessionKey(key.key.privateKey, parts.rsaBlock, Buffer.from("ns"))).toBeUndefined();
  });

  it("opens a value another tool sealed with a 16-byte session key, as Go's AES does", () => {
    const sessionKey = randomBytes(16);
    const rsaBlock = publicEncrypt(
      { key: key.key.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      sessionKey,
    );
    const cipher = createCipheriv("aes-128-gcm", sessionKey, Buffer.alloc(12));
    const aesPart = Buffer.concat([
      cipher.update("short key"),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    const opened = openSessionKey(key.key.privateKey, rsaBlock, Buffer.alloc(0));
    expect(openPayload(opened!, aesPart).toString()).toBe("short key");
  });

  it("tells truncation, a cut tag and a corrupt length prefix apart", () => {
    const sealed = hybridEncrypt(key.key.publicKey, Buffer.from("value"), label);
    const sizes = new Set([512]);
    const split = (bytes: Buffer): unknown => {
      try {
        return splitSealedValue(bytes, sizes);
      } catch (err: unknown) {
        return err;
      }
    };
    expect(split(sealed.subarray(0, 1))).toMatchObject({ code: ErrorCodes.UNSEAL_TRUNCATED });
    expect(split(sealed.subarray(0, 300))).toMatchObject({
      code: ErrorCodes.UNSEAL_TRUNCATED,
      message: expect.stringContaining("inside the RSA block") as unknown,
    });
    expect(split(sealed.subarray(0, 520))).toMatchObject({
      code: ErrorCodes.UNSEAL_TRUNCATED,
      message: expect.stringContaining("inside the AES-GCM tag") as unknown,
    });
    const prefix = Buffer.from(sealed);
    prefix[0] = 0x01;
    expect(split(prefix)).toMatchObject({
      code: ErrorCodes.UNSEAL_BAD_LENGTH_PREFIX,
      message: expect.stringContaining("announces a 256-byte RSA block") as unknown,
    });
  });
});
