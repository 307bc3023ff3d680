/**
 * One encryptedData value, byte for byte as Bitnami Sealed Secrets writes it:
 *   uint16be(len(R)) || R || AES-GCM(sessionKey, nonce = 12 zero bytes, plaintext) || tag
 * where R is RSA-OAEP(SHA-256, MGF1-SHA-256, label) of a fresh 32-byte session key.
 * A zero nonce is safe because every session key encrypts exactly one value.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from "node:crypto";
import { ErrorCodes, GuardError } from "../../errors.js";

export const SESSION_KEY_BYTES = 32;
export const TAG_BYTES = 16;
const NONCE = Buffer.alloc(12);
const PREFIX_BYTES = 2;

export interface SealedParts {
  /** The RSA-OAEP block that holds the session key. */
  readonly rsaBlock: Buffer;
  /** AES-GCM ciphertext followed by its 16-byte tag. */
  readonly aesPart: Buffer;
}

export function hybridEncrypt(publicKey: KeyObject, plaintext: Uint8Array, label: Buffer): Buffer {
  const sessionKey = randomBytes(SESSION_KEY_BYTES);
  const rsaBlock = publicEncrypt(
    {
      key: publicKey,
      padding: constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: "sha256",
      oaepLabel: label,
    },
    sessionKey,
  );
  const cipher = createCipheriv("aes-256-gcm", sessionKey, NONCE);
  const body = [cipher.update(plaintext), cipher.final(), cipher.getAuthTag()];
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.writeUInt16BE(rsaBlock.length);
  return Buffer.concat([prefix, rsaBlock, ...body]);
}

function describeSizes(sizes: ReadonlySet<number>): string {
  return [...sizes].map((s) => `${s} bytes (RSA-${s * 8})`).join(" or ");
}

/**
 * Splits a decoded value into its parts. `blockSizes` are the RSA block sizes of the keys
 * that could open it; they tell a corrupted length prefix apart from a cut-off value.
 */
export function splitSealedValue(bytes: Buffer, blockSizes: ReadonlySet<number>): SealedParts {
  if (bytes.length < PREFIX_BYTES) {
    throw new GuardError(
      ErrorCodes.UNSEAL_TRUNCATED,
      `is truncated: ${bytes.length} bytes, not even the 2-byte length prefix`,
    );
  }
  const blockLength = bytes.readUInt16BE(0);
  const available = bytes.length - PREFIX_BYTES - TAG_BYTES;
  if (blockSizes.size > 0 && !blockSizes.has(blockLength)) {
    const fits = [...blockSizes].some((size) => size <= available);
    if (fits) {
      throw new GuardError(
        ErrorCodes.UNSEAL_BAD_LENGTH_PREFIX,
        `has a corrupt length prefix: it announces a ${blockLength}-byte RSA block, but the keys ` +
          `held use ${describeSizes(blockSizes)}`,
      );
    }
    throw new GuardError(
      ErrorCodes.UNSEAL_TRUNCATED,
      `is truncated: ${bytes.length} bytes, shorter than the smallest possible sealed value ` +
        `(2 + ${Math.min(...blockSizes)} + ${TAG_BYTES} bytes)`,
    );
  }
  if (bytes.length < PREFIX_BYTES + blockLength + TAG_BYTES) {
    const where =
      bytes.length < PREFIX_BYTES + blockLength ? "inside the RSA block" : "inside the AES-GCM tag";
    throw new GuardError(
      ErrorCodes.UNSEAL_TRUNCATED,
      `is truncated: it ends ${where} (${bytes.length} bytes, at least ` +
        `${PREFIX_BYTES + blockLength + TAG_BYTES} needed)`,
    );
  }
  return {
    rsaBlock: bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + blockLength),
    aesPart: bytes.subarray(PREFIX_BYTES + blockLength),
  };
}

/** The session key, or undefined when this key and label do not open the RSA block. */
export function openSessionKey(
  privateKey: KeyObject,
  rsaBlock: Buffer,
  label: Buffer,
): Buffer | undefined {
  try {
    return privateDecrypt(
      {
        key: privateKey,
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: "sha256",
        oaepLabel: label,
      },
      rsaBlock,
    );
  } catch {
    // OAEP failure: wrong key or wrong label. Which one is the diagnosis's job, not ours.
    return undefined;
  }
}

const GCM_BY_KEY_LENGTH: Readonly<Record<number, "aes-128-gcm" | "aes-192-gcm" | "aes-256-gcm">> = {
  16: "aes-128-gcm",
  24: "aes-192-gcm",
  32: "aes-256-gcm",
};

/**
 * The plaintext, or a TAMPERED error when the AES-GCM tag does not match. Go's aes.NewCipher
 * takes 16-, 24- and 32-byte keys, so a value another tool sealed with a shorter key opens too.
 */
export function openPayload(sessionKey: Buffer, aesPart: Buffer): Buffer {
  const algorithm = GCM_BY_KEY_LENGTH[sessionKey.length];
  if (algorithm === undefined) {
    throw new GuardError(
      ErrorCodes.UNSEAL_TAMPERED,
      `holds a ${sessionKey.length}-byte session key; AES needs 16, 24 or 32 bytes`,
    );
  }
  const decipher = createDecipheriv(algorithm, sessionKey, NONCE);
  decipher.setAuthTag(aesPart.subarray(aesPart.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(aesPart.subarray(0, aesPart.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new GuardError(
      ErrorCodes.UNSEAL_TAMPERED,
      "was altered after sealing: the key opens its RSA block, but the AES-GCM data or tag " +
        "fails authentication",
    );
  }
}
