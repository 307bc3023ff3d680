/**
 * Decrypts every document and computes the MAC in one pass, in sops's own order
 * (sops.go Tree.Decrypt): depth first, documents in file order, every non-null leaf hashed in
 * its Go text form, encrypted or not; comments are decrypted but never hashed. With
 * mac_only_encrypted only encrypted leaves are hashed, after a fixed 32-byte prefix.
 */
import { createHash, type Hash } from "node:crypto";
import { decryptValue, macBytes, ValueError } from "./cipher.js";
import { FormatError } from "./format-error.js";
import { ErrorCodes } from "../../errors.js";
import type { EncryptionTest } from "./rules.js";
import {
  comment,
  isComment,
  isList,
  isMap,
  sopsList,
  sopsMap,
  type SopsComment,
  type SopsDocument,
  type SopsEntry,
  type SopsList,
  type SopsListItem,
  type SopsMap,
  type SopsScalar,
  type SopsValue,
} from "./tree.js";

/** sha256("sops"): makes a mac_only_encrypted MAC differ from a full one (sops.go). */
const MAC_ONLY_ENCRYPTED_PREFIX = Buffer.from(
  "8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69",
  "hex",
);

export interface WalkInput {
  readonly documents: readonly SopsDocument[];
  readonly dataKey: Uint8Array;
  readonly encrypted: EncryptionTest;
  readonly macOnlyEncrypted: boolean;
}

export interface WalkResult {
  readonly documents: SopsDocument[];
  /** Upper-case hex SHA-512, as sops prints it with %X. */
  readonly mac: string;
}

interface Context extends WalkInput {
  readonly hash: Hash;
}

type Stack = string[][];

function typeName(value: SopsValue | SopsComment): string {
  if (value instanceof Uint8Array) return "binary value";
  return typeof value === "object" && value !== null ? value.kind : typeof value;
}

function decryptLeaf(
  input: SopsScalar | SopsComment,
  aad: string,
  ctx: Context,
): SopsScalar | SopsComment {
  if (isComment(input)) {
    try {
      return decryptValue(input.text, ctx.dataKey, aad);
    } catch {
      // sops keeps a comment that does not decrypt: it was written in clear.
      return input;
    }
  }
  if (typeof input !== "string") {
    throw new ValueError(`a ${typeName(input)} stands where an encrypted value must be`);
  }
  return decryptValue(input, ctx.dataKey, aad);
}

function leaf(
  input: SopsScalar | SopsComment,
  path: readonly string[],
  stack: Stack,
  ctx: Context,
): SopsScalar | SopsComment {
  const encrypted = ctx.encrypted(path, stack, isComment(input));
  let value: SopsScalar | SopsComment = input;
  if (encrypted) {
    const aad = `${path.join(":")}:`;
    try {
      value = decryptLeaf(input, aad, ctx);
    } catch (err: unknown) {
      if (!(err instanceof ValueError)) throw err;
      const where = path.length === 0 ? "top level" : `"${path.join(":")}"`;
      throw new FormatError(
        `the value at ${where} cannot be decrypted: ${err.message}`,
        ErrorCodes.SOPS_VALUE_INVALID,
      );
    }
  }
  if ((!ctx.macOnlyEncrypted || encrypted) && !isComment(value) && value !== null) {
    ctx.hash.update(macBytes(value));
  }
  return value;
}

function walkValue(
  value: SopsValue,
  path: readonly string[],
  stack: Stack,
  ctx: Context,
): SopsListItem {
  if (isMap(value)) return walkMap(value, path, stack, ctx);
  if (isList(value)) return walkList(value, path, stack, ctx);
  if (value === null) return null;
  return leaf(value, path, stack, ctx);
}

function commentFrom(value: SopsListItem): SopsComment {
  if (isComment(value)) return value;
  if (typeof value === "string") return comment(value);
  throw new FormatError(
    "an encrypted comment decrypts to a value that is not text",
    ErrorCodes.SOPS_VALUE_INVALID,
  );
}

/** A mapping value that decrypts to a comment has no place in a document. */
function mappingValue(value: SopsListItem, path: readonly string[]): SopsValue {
  if (!isComment(value)) return value;
  throw new FormatError(
    `the value at "${path.join(":")}" decrypts to a comment, not a value`,
    ErrorCodes.SOPS_VALUE_INVALID,
  );
}

function walkMap(map: SopsMap, path: readonly string[], stack: Stack, ctx: Context): SopsMap {
  const here: Stack = [...stack, []];
  const top = here.length - 1;
  const out: SopsEntry[] = [];
  for (const entry of map.entries) {
    if (isComment(entry)) {
      here[top]?.push(entry.text);
      out.push(commentFrom(leaf(entry, path, here, ctx)));
      continue;
    }
    const keyPath = [...path, entry.key];
    out.push({
      key: entry.key,
      value: mappingValue(walkValue(entry.value, keyPath, here, ctx), keyPath),
    });
    here[top] = [];
  }
  return sopsMap(out);
}

function walkList(list: SopsList, path: readonly string[], stack: Stack, ctx: Context): SopsList {
  const here: Stack = [...stack, []];
  const top = here.length - 1;
  const out = list.items.map((item) => {
    const wasComment = isComment(item);
    if (wasComment) here[top]?.push(item.text);
    // Sequence indices are not part of the path: every item shares its list's AAD.
    const value = wasComment ? leaf(item, path, here, ctx) : walkValue(item, path, here, ctx);
    if (!wasComment) here[top] = [];
    return value;
  });
  return sopsList(out);
}

/** Decrypts the documents with the data key and returns them with the computed MAC. */
export function decryptDocuments(input: WalkInput): WalkResult {
  const hash = createHash("sha512");
  if (input.macOnlyEncrypted) hash.update(MAC_ONLY_ENCRYPTED_PREFIX);
  const ctx: Context = { ...input, hash };
  const documents = input.documents.map((doc) => walkMap(doc, [], [], ctx));
  return { documents, mac: hash.digest("hex").toUpperCase() };
}
