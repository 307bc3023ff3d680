/**
 * sops's value cipher (aes/cipher.go): AES-256-GCM with the value's key path as additional
 * data, stored as `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`. The IV is 32 bytes in files
 * sops writes; any length is accepted, as sops accepts it.
 */
import { createDecipheriv, type CipherGCMTypes } from "node:crypto";
import {
  formatGoBool,
  formatGoFloat,
  normalizeGoTime,
  parseGoBool,
  parseGoFloat,
  parseGoInt,
} from "./go-values.js";
import { comment, isTime, sopsTime, type SopsComment, type SopsScalar } from "./tree.js";

/** Why a value could not be decrypted; never quotes the value. */
export class ValueError extends Error {
  override readonly name = "ValueError";
}

// The same pattern as sops: anchored at the start only, greedy groups.
const ENC = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;
// Go's base64.StdEncoding: padded, and it skips CR and LF.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TAG_BYTES = 16;

function base64(text: string, part: string): Buffer {
  const clean = text.replace(/[\r\n]/g, "");
  if (!BASE64.test(clean)) throw new ValueError(`its ${part} is not valid base64`);
  return Buffer.from(clean, "base64");
}

function gcmFor(key: Uint8Array): CipherGCMTypes {
  if (key.length === 32) return "aes-256-gcm";
  if (key.length === 24) return "aes-192-gcm";
  if (key.length === 16) return "aes-128-gcm";
  throw new ValueError(`the data key has ${key.length} bytes, not 32`);
}

function open(key: Uint8Array, iv: Buffer, sealed: Buffer, aad: string): Buffer {
  if (iv.length === 0) throw new ValueError("its IV is empty");
  // Go splits data‖tag 16 bytes from the end, whatever the fields say.
  if (sealed.length < TAG_BYTES) throw new ValueError("it is too short to carry a GCM tag");
  const cut = sealed.length - TAG_BYTES;
  try {
    const decipher = createDecipheriv(gcmFor(key), key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, "utf8"));
    decipher.setAuthTag(sealed.subarray(cut));
    return Buffer.concat([decipher.update(sealed.subarray(0, cut)), decipher.final()]);
  } catch (err: unknown) {
    if (err instanceof ValueError) throw err;
    throw new ValueError(
      "AES-GCM authentication failed: wrong data key, a changed value, or a value moved to another key",
    );
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Text when the bytes are UTF-8; the raw bytes otherwise (binary files encrypted as `str`). */
function text(bytes: Buffer): string | Uint8Array {
  try {
    return UTF8.decode(bytes);
  } catch {
    return new Uint8Array(bytes);
  }
}

function typed<T>(value: T | undefined, type: string): T {
  if (value === undefined) throw new ValueError(`its plaintext does not read as type ${type}`);
  return value;
}

function fromPlaintext(bytes: Buffer, type: string): SopsScalar | SopsComment {
  const plain = bytes.toString("utf8");
  switch (type) {
    case "str":
      return text(bytes);
    case "int":
      return typed(parseGoInt(plain), type);
    case "float":
      return typed(parseGoFloat(plain), type);
    case "bool":
      return typed(parseGoBool(plain), type);
    case "time":
      return sopsTime(typed(normalizeGoTime(plain), type));
    case "bytes":
      return new Uint8Array(bytes);
    case "comment":
      return comment(plain);
    default:
      throw new ValueError("its type is not one sops knows");
  }
}

/** Decrypts one value; aad is the key path joined with ":" plus a trailing ":". */
export function decryptValue(
  value: string,
  key: Uint8Array,
  aad: string,
): SopsScalar | SopsComment {
  if (value === "") return "";
  const match = ENC.exec(value);
  if (match === null) throw new ValueError("it is not in sops's ENC[AES256_GCM,…] format");
  const [, data = "", iv = "", tag = "", type = ""] = match;
  const sealed = Buffer.concat([base64(data, "data"), base64(tag, "tag")]);
  return fromPlaintext(open(key, base64(iv, "iv"), sealed, aad), type);
}

/** The bytes sops feeds the MAC for a value (sops.ToBytes). */
export function macBytes(value: Exclude<SopsScalar, null>): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (isTime(value)) return Buffer.from(value.text, "utf8");
  if (typeof value === "bigint") return Buffer.from(value.toString(), "utf8");
  if (typeof value === "number") return Buffer.from(formatGoFloat(value), "utf8");
  if (typeof value === "boolean") return Buffer.from(formatGoBool(value), "utf8");
  return Buffer.from(value, "utf8");
}
