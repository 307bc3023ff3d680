/**
 * Throwaway PKI for tests: a self-signed CA and serving certificates it signs, as PEM strings.
 * Keys are RSA 2048 (node-forge uses Node's native key generation, so this is fast).
 */
import { isIP } from "node:net";
import forge from "node-forge";

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

export type TestCa = PemPair;
export type TestCert = PemPair;

const DAY_MS = 24 * 60 * 60 * 1000;

function newCertificate(publicKey: forge.pki.PublicKey): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial: the first hex digit below 8 keeps the DER integer's sign bit clear.
  cert.serialNumber = `0${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + DAY_MS);
  return cert;
}

export function makeTestCa(commonName = "gitops-guard test CA"): TestCa {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = newCertificate(keys.publicKey);
  const name = [{ name: "commonName", value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return {
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(keys.privateKey),
  };
}

/** A serving certificate for `hosts` (DNS names and IP addresses), signed by `ca`. */
export function makeServingCert(ca: TestCa, hosts: readonly string[]): TestCert {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = newCertificate(keys.publicKey);
  cert.setSubject([{ name: "commonName", value: hosts[0] ?? "localhost" }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = hosts.map((host) =>
    isIP(host) === 0 ? { type: 2, value: host } : { type: 7, ip: host },
  );
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true, clientAuth: true },
    { name: "subjectAltName", altNames },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return {
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(keys.privateKey),
  };
}
