/**
 * Recovers a file's data key from its key groups (sops.go GetDataKeyWithKeyServices): within
 * a group the keys are tried age first, then PGP, then the rest in file order, and the first
 * that opens wins; one group gives the key itself, several give Shamir shares.
 */
import { ErrorCodes } from "../../errors.js";
import { openAgeKey, type AgeIdentity } from "./age.js";
import { FormatError } from "./format-error.js";
import type { KmsDecryptor } from "./kms.js";
import { describeKey, type KmsKey, type MasterKey, type SopsMetadata } from "./metadata.js";
import { combineShares } from "./shamir.js";

/** The key material a caller holds. */
export interface SopsKeys {
  readonly age?: readonly AgeIdentity[];
  readonly kms?: KmsDecryptor;
}

export interface KeyAttempt {
  /** "age:age1…", "kms:arn:aws:kms:…", "pgp:FINGERPRINT", … */
  readonly key: string;
  readonly opened: boolean;
  /** Why it did not open; absent when it opened. */
  readonly reason?: string;
}

export interface DataKey {
  readonly key: Uint8Array;
  /** The key that opened each group, in group order. */
  readonly openedBy: readonly string[];
}

const PRIORITY: Readonly<Record<string, number>> = { age: 0, pgp: 1 };

/** The group's keys in sops's default decryption order (age, pgp, then the rest), stable. */
export function inDecryptionOrder(group: readonly MasterKey[]): MasterKey[] {
  const rank = (key: MasterKey): number => PRIORITY[key.type] ?? 2;
  return [...group].sort((a, b) => rank(a) - rank(b));
}

function base64Strict(text: string): Uint8Array {
  const clean = text.replace(/\s/g, "");
  if (
    !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(clean) ||
    clean === ""
  ) {
    throw new Error("its enc field is not base64");
  }
  return Buffer.from(clean, "base64");
}

async function openKms(key: KmsKey, kms: KmsDecryptor | undefined): Promise<Uint8Array> {
  if (kms === undefined) throw new Error("no AWS KMS access was configured");
  const blob = base64Strict(key.enc);
  return key.role === ""
    ? kms.decrypt(blob, key.context, key.arn)
    : kms.decrypt(blob, key.context, key.arn, key.role);
}

/** Opens one master key with the caller's keys; rejects with the reason it could not. */
export async function openMasterKey(key: MasterKey, keys: SopsKeys): Promise<Uint8Array> {
  switch (key.type) {
    case "age":
      return openAgeKey(key.enc, key.recipient, keys.age ?? []);
    case "kms":
      return openKms(key, keys.kms);
    default:
      throw new Error(`${key.type} keys are not supported (use age or AWS KMS)`);
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function openGroup(
  group: readonly MasterKey[],
  keys: SopsKeys,
  attempts: KeyAttempt[],
): Promise<{ part: Uint8Array; by: string } | undefined> {
  for (const key of inDecryptionOrder(group)) {
    const name = describeKey(key);
    try {
      const part = await openMasterKey(key, keys);
      attempts.push({ key: name, opened: true });
      return { part, by: name };
    } catch (err: unknown) {
      attempts.push({ key: name, opened: false, reason: reasonOf(err) });
    }
  }
  return undefined;
}

function noKey(attempts: readonly KeyAttempt[], needed: string): FormatError {
  const tried = attempts.map((a) => `${a.key}: ${a.reason ?? "opened"}`).join("; ");
  return new FormatError(
    `cannot get the data key (${needed}); tried ${tried}`,
    ErrorCodes.SOPS_NO_KEY,
    {
      attempts,
    },
  );
}

/** The data key, or a FormatError (NO_KEY) that lists every key tried and why it failed. */
export async function recoverDataKey(metadata: SopsMetadata, keys: SopsKeys): Promise<DataKey> {
  const attempts: KeyAttempt[] = [];
  const parts: Uint8Array[] = [];
  const openedBy: string[] = [];
  for (const group of metadata.keyGroups) {
    const opened = await openGroup(group, keys, attempts);
    if (opened === undefined) continue;
    parts.push(opened.part);
    openedBy.push(opened.by);
  }
  if (metadata.keyGroups.length <= 1) {
    const [key] = parts;
    if (key === undefined) throw noKey(attempts, "no key opened it");
    return { key, openedBy };
  }
  if (parts.length < metadata.shamirThreshold || parts.length < 2) {
    throw noKey(
      attempts,
      `${parts.length} of ${metadata.keyGroups.length} key groups opened, ${metadata.shamirThreshold} needed`,
    );
  }
  try {
    return { key: combineShares(parts), openedBy };
  } catch (err: unknown) {
    throw new FormatError(
      `cannot join the key groups' shares: ${reasonOf(err)}`,
      ErrorCodes.SOPS_NO_KEY,
    );
  }
}
