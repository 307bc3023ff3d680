/**
 * Reading sealing keys from PEM text: PKCS#1 "RSA PRIVATE KEY" as Bitnami writes them, or
 * PKCS#8, with the certificate that goes with them when it is there.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { ErrorCodes, GuardError, errorMessage } from "../../errors.js";
import { sealingKey, type SealingKey } from "./keyring.js";

const PEM_PRIVATE_KEY =
  /-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]*?-----END (RSA )?PRIVATE KEY-----/g;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/;

function toRsaKey(pem: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err: unknown) {
    throw new GuardError(
      ErrorCodes.KEYS_INVALID,
      `${source}: the private key cannot be read: ${errorMessage(err)}`,
      { cause: err },
    );
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new GuardError(
      ErrorCodes.KEYS_INVALID,
      `${source}: the private key is ${String(key.asymmetricKeyType)}, sealing keys are RSA`,
    );
  }
  return key;
}

/** Every RSA private key in a PEM text; an empty list when it holds none. */
export function parsePrivateKeysPem(text: string, source: string): KeyObject[] {
  return [...text.matchAll(PEM_PRIVATE_KEY)].map((m) => toRsaKey(m[0], source));
}

function certificatesIn(text: string, source: string): X509Certificate[] {
  return [...text.matchAll(new RegExp(PEM_CERTIFICATE.source, "g"))].map((m) => {
    try {
      return new X509Certificate(m[0]);
    } catch (err: unknown) {
      throw new GuardError(
        ErrorCodes.KEYS_INVALID,
        `${source}: a certificate cannot be parsed: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  });
}

/** Every private key in a PEM text, each with its certificate when the text holds it. */
export function keysFromPem(text: string, source: string): SealingKey[] {
  const certificates = certificatesIn(text, source);
  return parsePrivateKeysPem(text, source).map((privateKey) => {
    const cert = certificates.find((c) => c.checkPrivateKey(privateKey));
    if (cert === undefined) return sealingKey(privateKey, { source });
    return sealingKey(privateKey, {
      source,
      since: cert.validFromDate.getTime(),
      certificatePem: `${cert.toString().trim()}\n`,
    });
  });
}

/**
 * A SealingKey from a private key PEM and, optionally, its certificate PEM (tls.key and
 * tls.crt of a key Secret). The certificate must belong to the key; its NotBefore orders keys.
 */
export function keyFromPem(
  privateKeyPem: string,
  certificatePem: string | undefined,
  source: string,
): SealingKey {
  const [privateKey, extra] = parsePrivateKeysPem(privateKeyPem, source);
  if (privateKey === undefined || extra !== undefined) {
    throw new GuardError(
      ErrorCodes.KEYS_INVALID,
      `${source}: expected one PEM private key, found ${privateKey === undefined ? "none" : "several"}`,
    );
  }
  const [cert] = certificatePem === undefined ? [] : certificatesIn(certificatePem, source);
  if (cert === undefined) return sealingKey(privateKey, { source });
  const key = sealingKey(privateKey, {
    source,
    since: cert.validFromDate.getTime(),
    certificatePem: `${cert.toString().trim()}\n`,
  });
  if (!cert.checkPrivateKey(privateKey)) {
    throw new GuardError(
      ErrorCodes.KEYS_MISMATCH,
      `${source}: the certificate does not belong to the private key ${key.fingerprint}`,
    );
  }
  return key;
}
