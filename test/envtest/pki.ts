import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

/** A PEM certificate with its PEM private key. */
export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

export interface ClientIdentity {
  readonly user: string;
  readonly groups: readonly string[];
}

// node:crypto makes the RSA keys (native, milliseconds); node-forge only builds and signs the
// X.509 certificates, which node:crypto cannot do.
function rsaKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

function newCert(publicPem: string, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = `01${randomBytes(8).toString("hex")}`;
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + days * 24 * 60 * 60 * 1000);
  return cert;
}

function sign(cert: forge.pki.Certificate, signerKeyPem: string): string {
  cert.sign(forge.pki.privateKeyFromPem(signerKeyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** A self-signed certificate authority. */
export function makeCa(commonName: string): CertPair {
  const keys = rsaKeyPair();
  const cert = newCert(keys.publicPem, 3650);
  const subject = [{ name: "commonName", value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
  ]);
  return { cert: sign(cert, keys.privatePem), key: keys.privatePem };
}

function issue(
  ca: CertPair,
  subject: forge.pki.CertificateField[],
  extensions: object[],
): CertPair {
  const keys = rsaKeyPair();
  const cert = newCert(keys.publicPem, 365);
  cert.setSubject(subject);
  cert.setIssuer(forge.pki.certificateFromPem(ca.cert).subject.attributes);
  cert.setExtensions([{ name: "basicConstraints", cA: false }, ...extensions]);
  return { cert: sign(cert, ca.key), key: keys.privatePem };
}

/** A TLS serving certificate for loopback names and addresses. */
export function makeServingCert(ca: CertPair, names: readonly string[]): CertPair {
  const altNames = names.map((n) =>
    /^[0-9.]+$/.test(n) || n.includes(":") ? { type: 7, ip: n } : { type: 2, value: n },
  );
  return issue(
    ca,
    [{ name: "commonName", value: names[0] ?? "localhost" }],
    [
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames },
    ],
  );
}

/** A client certificate: the API server reads the user from CN and the groups from O. */
export function makeClientCert(ca: CertPair, identity: ClientIdentity): CertPair {
  const subject: forge.pki.CertificateField[] = [{ name: "commonName", value: identity.user }];
  for (const group of identity.groups) subject.push({ name: "organizationName", value: group });
  return issue(ca, subject, [
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", clientAuth: true },
  ]);
}

/** The key pair the API server signs service-account tokens with. */
export function makeServiceAccountKeys(): { privatePem: string; publicPem: string } {
  return rsaKeyPair();
}
