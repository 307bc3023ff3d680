/**
 * Building the self-signed certificate that goes with a sealing key, shaped like the one
 * Bitnami's controller makes: X.509 v3, random 128-bit serial, Subject = Issuer = CN (empty
 * by default), key usage encipherOnly only (critical), basic constraints CA (critical), a
 * subject key identifier, SHA-256 with RSA. node-forge encodes the certificate; the signature
 * itself is made by node:crypto, because forge's pure-JS RSA-4096 is slow.
 */
import {
  constants,
  createPublicKey,
  privateEncrypt,
  randomBytes,
  type KeyObject,
} from "node:crypto";
import forge from "node-forge";

export interface CertificateOptions {
  /** Subject and issuer common name; empty gives an empty name, as the Bitnami default. */
  readonly commonName?: string;
  /** ms since the epoch. */
  readonly notBefore: number;
  readonly validForMs: number;
}

/** DER prefix of a DigestInfo for SHA-256 (RFC 8017 section 9.2, note 1). */
const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");

/** A forge signer backed by node:crypto: RSASSA-PKCS1-v1_5 over the digest forge computed. */
function nativeSigner(privateKey: KeyObject): forge.pki.rsa.PrivateKey {
  const sign = (md: forge.md.MessageDigest): string => {
    const digest = Buffer.from(md.digest().getBytes(), "binary");
    const signature = privateEncrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_PADDING },
      Buffer.concat([SHA256_DIGEST_INFO, digest]),
    );
    return signature.toString("binary");
  };
  // forge calls only sign() on the key it is given.
  return { sign } as unknown as forge.pki.rsa.PrivateKey;
}

/** A positive 128-bit serial as DER INTEGER content: a leading zero keeps it positive. */
function serialHex(): string {
  const bytes = randomBytes(16);
  const hex = bytes.toString("hex");
  return (bytes[0] ?? 0) & 0x80 ? `00${hex}` : hex;
}

export function createSealingCertificate(
  privateKey: KeyObject,
  options: CertificateOptions,
): string {
  const publicPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = serialHex();
  cert.validity.notBefore = new Date(options.notBefore);
  cert.validity.notAfter = new Date(options.notBefore + options.validForMs);
  const name = options.commonName ? [{ name: "commonName", value: options.commonName }] : [];
  cert.setSubject(name);
  cert.setIssuer(name);
  // Go's order: key usage, basic constraints, subject key identifier.
  cert.setExtensions([
    { name: "keyUsage", critical: true, encipherOnly: true },
    { name: "basicConstraints", critical: true, cA: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(nativeSigner(privateKey), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, "\n");
}
