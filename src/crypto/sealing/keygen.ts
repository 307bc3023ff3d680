/**
 * Generating a sealing key: RSA with node:crypto (native, much faster than node-forge for
 * 4096 bits) and its self-signed certificate, shaped like the Bitnami controller's.
 */
import { generateKeyPair } from "node:crypto";
import { promisify } from "node:util";
import { createSealingCertificate } from "./certificate-build.js";
import { sealingKey, type SealingKey } from "./keyring.js";

export const DEFAULT_KEY_BITS = 4096;
/** Bitnami's --key-ttl default, 87600h (about ten years). */
export const DEFAULT_KEY_VALIDITY_MS = 87_600 * 3_600_000;

export interface GenerateKeyOptions {
  /** ms since the epoch: the certificate's NotBefore, so also the key's place in the order. */
  readonly now: number;
  readonly bits?: number;
  readonly commonName?: string;
  readonly validForMs?: number;
}

export interface GeneratedKey {
  readonly key: SealingKey;
  /** PKCS#1 PEM, the form Bitnami's key Secrets hold in tls.key. */
  readonly privateKeyPem: string;
  readonly certificatePem: string;
}

const generateRsa = promisify(generateKeyPair);

/** A new RSA key (node:crypto, native and fast) and its self-signed certificate. */
export async function generateSealingKey(options: GenerateKeyOptions): Promise<GeneratedKey> {
  const { privateKey } = await generateRsa("rsa", {
    modulusLength: options.bits ?? DEFAULT_KEY_BITS,
    publicExponent: 0x10001,
  });
  const certificatePem = createSealingCertificate(privateKey, {
    notBefore: options.now,
    validForMs: options.validForMs ?? DEFAULT_KEY_VALIDITY_MS,
    ...(options.commonName === undefined ? {} : { commonName: options.commonName }),
  });
  const privateKeyPem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const key = sealingKey(privateKey, { since: options.now, certificatePem });
  return { key, privateKeyPem, certificatePem };
}
