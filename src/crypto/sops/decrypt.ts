/**
 * Decrypts a SOPS file and always verifies its MAC, as `sops decrypt` does without
 * --ignore-mac: a file with no MAC, a changed value, key, order or type, or a changed MAC is
 * refused. Pure: the caller passes the bytes and the key material.
 */
import { ErrorCodes, GuardError } from "../../errors.js";
import { decryptValue, ValueError } from "./cipher.js";
import { recoverDataKey, type SopsKeys } from "./data-key.js";
import { FormatError, metadataError } from "./format-error.js";
import { formatForName, type SopsFormat } from "./formats.js";
import { formatGoTimeSeconds } from "./go-values.js";
import { describeKey, parseMetadata, type SopsMetadata } from "./metadata.js";
import { readDocuments, type ParsedFile } from "./read.js";
import { encryptionTest } from "./rules.js";
import type { SopsDocument } from "./tree.js";
import { decryptDocuments } from "./walk.js";

export interface SopsInput {
  /** The file's name or path: named in every error, and picks the format when none is given. */
  readonly name: string;
  readonly content: Uint8Array | string;
  readonly format?: SopsFormat;
}

export interface SopsDecrypted {
  readonly name: string;
  readonly format: SopsFormat;
  /** The documents with every value decrypted; comments kept, in place. */
  readonly documents: readonly SopsDocument[];
  /** The key that opened the data key, per key group ("age:age1…", "kms:arn:…"). */
  readonly openedBy: readonly string[];
  /** The verified MAC (upper-case hex SHA-512 of the plaintext values): as secret as they are. */
  readonly mac: string;
  readonly version: string;
  readonly lastModified: string;
}

/** Wraps a store or metadata problem as a GuardError naming the file. */
export function inFile(name: string, err: unknown): unknown {
  if (!(err instanceof FormatError)) return err;
  return new GuardError(err.code, `${name}: ${err.message}`, {
    details: { file: name, ...err.details },
  });
}

/** Parses a SOPS file's data and metadata without decrypting anything. */
export function parseSopsFile(input: SopsInput): ParsedFile & { metadata: SopsMetadata } {
  const format = input.format ?? formatForName(input.name);
  try {
    const parsed = readDocuments(input.content, format);
    return { ...parsed, metadata: parseMetadata(parsed.rawMetadata) };
  } catch (err: unknown) {
    throw inFile(input.name, err);
  }
}

function verifyMac(metadata: SopsMetadata, dataKey: Uint8Array, computed: string): void {
  if (metadata.mac === "") {
    throw new FormatError(
      "the file has no MAC, so its integrity cannot be checked",
      ErrorCodes.SOPS_MAC_MISSING,
    );
  }
  const aad = formatGoTimeSeconds(metadata.lastModified);
  if (aad === undefined) throw metadataError("sops.lastmodified is not an RFC 3339 time");
  let stored: unknown;
  try {
    stored = decryptValue(metadata.mac, dataKey, aad);
  } catch (err: unknown) {
    const why = err instanceof ValueError ? err.message : "unknown error";
    throw new FormatError(
      `the MAC cannot be decrypted (the MAC or sops.lastmodified was changed): ${why}`,
      ErrorCodes.SOPS_MAC_MISMATCH,
    );
  }
  if (stored !== computed) {
    throw new FormatError(
      "MAC mismatch: the file's values, their order or their types changed since sops wrote it",
      ErrorCodes.SOPS_MAC_MISMATCH,
    );
  }
}

/**
 * Decrypts input with keys. Rejects with a GuardError (GG_SOPS_*) that names the file and,
 * for key failures, every key tried and why; never a decrypted value.
 */
export async function decryptSops(input: SopsInput, keys: SopsKeys): Promise<SopsDecrypted> {
  const parsed = parseSopsFile(input);
  const { metadata } = parsed;
  try {
    if (formatGoTimeSeconds(metadata.lastModified) === undefined) {
      throw metadataError("sops.lastmodified is not an RFC 3339 time");
    }
    const dataKey = await recoverDataKey(metadata, keys);
    const walked = decryptDocuments({
      documents: parsed.documents,
      dataKey: dataKey.key,
      encrypted: encryptionTest(metadata.rule),
      macOnlyEncrypted: metadata.macOnlyEncrypted,
    });
    verifyMac(metadata, dataKey.key, walked.mac);
    return {
      name: input.name,
      format: parsed.format,
      documents: walked.documents,
      openedBy: dataKey.openedBy,
      mac: walked.mac,
      version: metadata.version,
      lastModified: metadata.lastModified,
    };
  } catch (err: unknown) {
    throw inFile(input.name, err);
  }
}

/** Every master key in the file, named as in errors, in decryption order per group. */
export function listKeys(metadata: SopsMetadata): string[] {
  return metadata.keyGroups.flatMap((group) => group.map(describeKey));
}
