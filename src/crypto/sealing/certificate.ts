/**
 * Reading sealing certificates (what `seal --cert` takes). Parsing uses node:crypto's native
 * X509Certificate, which accepts the Bitnami certificate's unusual encipherOnly key usage
 * and keeps node-forge off the seal command's start-up path.
 */
import { X509Certificate, type KeyObject } from "node:crypto";
import { ErrorCodes, GuardError, errorMessage } from "../../errors.js";
import { publicKeyFingerprint } from "./fingerprint.js";

export interface SealingCertificate {
  readonly pem: string;
  readonly publicKey: KeyObject;
  readonly fingerprint: string;
  readonly subject: string;
  /** Validity, ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/;

function hint(text: string): string {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    return ": it holds a private key; seal needs the certificate (tls.crt or /v1/cert.pem)";
  }
  if (text.includes("-----BEGIN PUBLIC KEY-----")) {
    return ": it holds a bare public key; seal needs the certificate, as kubeseal does";
  }
  return "";
}

/** The first certificate of a PEM text, as kubeseal uses only the first one. */
export function parseCertificate(text: string, source: string): SealingCertificate {
  const block = PEM_CERTIFICATE.exec(text)?.[0];
  if (block === undefined) {
    throw new GuardError(
      ErrorCodes.SEAL_CERT_INVALID,
      `${source} holds no PEM certificate${hint(text)}`,
    );
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(block);
  } catch (err: unknown) {
    throw new GuardError(
      ErrorCodes.SEAL_CERT_INVALID,
      `${source}: the certificate cannot be parsed: ${errorMessage(err)}`,
      { cause: err },
    );
  }
  if (cert.publicKey.asymmetricKeyType !== "rsa") {
    throw new GuardError(
      ErrorCodes.SEAL_CERT_INVALID,
      `${source}: the certificate's key is ${String(cert.publicKey.asymmetricKeyType)}, sealing needs RSA`,
    );
  }
  return {
    pem: `${block}\n`,
    publicKey: cert.publicKey,
    fingerprint: publicKeyFingerprint(cert.publicKey),
    subject: cert.subject,
    notBefore: cert.validFromDate.getTime(),
    notAfter: cert.validToDate.getTime(),
  };
}

/** Refuses an expired certificate, as kubeseal does: its controller may have dropped the key. */
export function assertCertificateCurrent(
  cert: SealingCertificate,
  now: number,
  source: string,
): void {
  if (now > cert.notAfter) {
    const day = new Date(cert.notAfter).toISOString().slice(0, 10);
    throw new GuardError(
      ErrorCodes.SEAL_CERT_EXPIRED,
      `${source}: the certificate (key ${cert.fingerprint}) expired on ${day}; fetch the ` +
        "controller's current certificate",
    );
  }
}
