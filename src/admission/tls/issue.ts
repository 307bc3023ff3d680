/**
 * The webhook's own PKI: a CA and the serving certificate it signs. node:crypto makes the RSA
 * keys (native, fast); node-forge builds and signs the X.509 certificates, which node:crypto
 * cannot. Time comes in as `now`, so renewal is tested without waiting.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { isIP } from "node:net";
import forge from "node-forge";

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

export interface Validity {
  /** ms since the epoch */
  readonly now: number;
  readonly validForMs: number;
}

/** Tolerates clocks that are a little behind ours. */
const BACKDATE_MS = 5 * 60_000;

function keyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

function serial(): string {
  // Positive: the top bit of the first byte stays clear.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}

function newCertificate(publicPem: string, validity: Validity): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(validity.now - BACKDATE_MS);
  cert.validity.notAfter = new Date(validity.now + validity.validForMs);
  return cert;
}

function signWith(cert: forge.pki.Certificate, signerKeyPem: string): string {
  cert.sign(forge.pki.privateKeyFromPem(signerKeyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

export function createCa(commonName: string, validity: Validity): PemPair {
  const keys = keyPair();
  const cert = newCertificate(keys.publicPem, validity);
  const subject = [{ name: "commonName", value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  return { cert: signWith(cert, keys.privatePem), key: keys.privatePem };
}

/** A TLS server certificate for hosts (DNS names and IP addresses), signed by ca. */
export function issueServing(ca: PemPair, hosts: readonly string[], validity: Validity): PemPair {
  const keys = keyPair();
  const cert = newCertificate(keys.publicPem, validity);
  cert.setSubject([{ name: "commonName", value: hosts[0] ?? "gitops-guard-webhook" }]);
  cert.setIssuer(forge.pki.certificateFromPem(ca.cert).subject.attributes);
  // subjectAltName types: 2 = DNS name, 7 = IP address (RFC 5280).
  const altNames = hosts.map((h) => (isIP(h) === 0 ? { type: 2, value: h } : { type: 7, ip: h }));
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames },
  ]);
  return { cert: signWith(cert, ca.key), key: keys.privatePem };
}

export interface CertificateFacts {
  readonly notBefore: number;
  readonly notAfter: number;
  /** subjectAltName DNS names and IP addresses. */
  readonly hosts: readonly string[];
}

interface AltName {
  readonly type?: number;
  readonly value?: string;
  readonly ip?: string;
}

/** The first certificate of a PEM text; throws on anything that is not one. */
export function certificateFacts(pem: string): CertificateFacts {
  const cert = forge.pki.certificateFromPem(pem);
  const san = cert.getExtension("subjectAltName") as { altNames?: AltName[] } | null;
  const hosts = (san?.altNames ?? []).flatMap((n) => {
    if (n.type === 7 && n.ip !== undefined) return [n.ip];
    return n.type === 2 && n.value !== undefined ? [n.value] : [];
  });
  return {
    notBefore: cert.validity.notBefore.getTime(),
    notAfter: cert.validity.notAfter.getTime(),
    hosts,
  };
}

/** Each certificate of a PEM bundle, as its own PEM block. */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
