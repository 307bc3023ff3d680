/**
 * The AWS KMS seam. The library calls KMS only through this interface, so callers choose the
 * credentials and endpoint (aws-kms.ts builds one on the AWS SDK) and tests can point it at a
 * local emulator.
 */
export interface KmsDecryptor {
  /**
   * Decrypts a KMS CiphertextBlob with the encryption context stored in the file, under the
   * key arn (whose region is the one to call), after assuming role when the file names one.
   * Rejects with an Error whose message says why (never the plaintext).
   */
  decrypt(
    ciphertext: Uint8Array,
    context: Readonly<Record<string, string>>,
    arn: string,
    role?: string,
  ): Promise<Uint8Array>;
}

// sops kms/keysource.go arnRegex.
const ARN = /^arn:aws[\w-]*:kms:(.+):[0-9]+:(key|alias)\/.+$/;

/** The region a KMS key ARN lives in, as sops reads it, or undefined for a malformed ARN. */
export function kmsRegion(arn: string): string | undefined {
  return ARN.exec(arn)?.[1];
}
