import { createHash, type KeyObject } from "node:crypto";

/** Go's ssh mpint: big-endian two's complement, so a set top bit gets a leading zero byte. */
function mpint(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const body = unsigned.subarray(start);
  const padded = (body[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), body]) : body;
  return sshString(padded);
}

function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/**
 * The key's SSH SHA256 fingerprint ("SHA256:" + unpadded base64), the id Bitnami's key
 * registry and kubeseal use, so both tools name the same key the same way.
 */
export function publicKeyFingerprint(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" });
  if (jwk.kty !== "RSA" || jwk.n === undefined || jwk.e === undefined) {
    throw new TypeError("not an RSA key");
  }
  const wire = Buffer.concat([
    sshString(Buffer.from("ssh-rsa")),
    mpint(Buffer.from(jwk.e, "base64url")),
    mpint(Buffer.from(jwk.n, "base64url")),
  ]);
  return `SHA256:${createHash("sha256").update(wire).digest("base64").replace(/=+$/, "")}`;
}
