/**
 * Why a value does not open. Runs only after every key failed under the object's own label,
 * so it costs nothing on the normal path. With RSA without padding (one native operation per
 * key) it recovers the OAEP block and, when the block is well-formed, the SHA-256 of the
 * label it was sealed with; comparing that hash with the labels of the places the value may
 * have come from (the template's original name and namespace, wider or narrower scopes,
 * other objects in reach) names where the value was sealed for.
 *
 * A verdict is given only for a fully well-formed OAEP block (leading zero, zero padding, the
 * 0x01 separator): a random or forged block passes with a probability of about 2^-16, so
 * the answer says nothing useful about chosen ciphertexts.
 */
import { constants, createHash, privateDecrypt } from "node:crypto";
import type { SealedParts } from "./hybrid.js";
import type { Keyring } from "./keyring.js";
import { labelText, type Scope } from "./scope.js";

/** A place a value may have been sealed for. */
export interface Place {
  readonly scope: Scope;
  readonly namespace: string;
  readonly name: string;
  /** Where this place comes from, for the message: "spec.template.metadata", ... */
  readonly origin: string;
}

export type Verdict =
  | { readonly kind: "other-place"; readonly fingerprint: string; readonly place: Place }
  | { readonly kind: "unknown-place"; readonly fingerprint: string }
  | { readonly kind: "no-key" };

const HASH_BYTES = 32;

function sha256(...parts: Buffer[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function mgf1(seed: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let i = 0; i * HASH_BYTES < length; i++) {
    counter.writeUInt32BE(i);
    blocks.push(sha256(seed, counter));
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

/** The label hash of a well-formed OAEP-SHA-256 encoded block (RFC 8017 7.1.2), else undefined. */
export function oaepLabelHash(encoded: Buffer): Buffer | undefined {
  if (encoded.length < 2 * HASH_BYTES + 2) return undefined;
  const maskedSeed = encoded.subarray(1, 1 + HASH_BYTES);
  const maskedDb = encoded.subarray(1 + HASH_BYTES);
  const seed = xor(maskedSeed, mgf1(maskedDb, HASH_BYTES));
  const db = xor(maskedDb, mgf1(seed, maskedDb.length));
  const padding = db.subarray(HASH_BYTES);
  const separator = padding.findIndex((byte) => byte !== 0);
  const wellFormed = encoded[0] === 0 && separator !== -1 && padding[separator] === 1;
  return wellFormed ? db.subarray(0, HASH_BYTES) : undefined;
}

function rawDecrypt(keyring: Keyring, fingerprint: string, block: Buffer): Buffer | undefined {
  const key = keyring.get(fingerprint);
  if (key === undefined || key.blockBytes !== block.length) return undefined;
  try {
    return privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, block);
  } catch {
    // The block is not below this key's modulus: not this key's.
    return undefined;
  }
}

export function diagnose(keyring: Keyring, parts: SealedParts, places: readonly Place[]): Verdict {
  const byHash = new Map<string, Place>();
  for (const place of places) {
    const hash = sha256(Buffer.from(labelText(place.scope, place.namespace, place.name)));
    if (!byHash.has(hash.toString("hex"))) byHash.set(hash.toString("hex"), place);
  }
  for (const key of keyring.keys()) {
    const encoded = rawDecrypt(keyring, key.fingerprint, parts.rsaBlock);
    const labelHash = encoded === undefined ? undefined : oaepLabelHash(encoded);
    if (labelHash === undefined) continue;
    const place = byHash.get(labelHash.toString("hex"));
    return place === undefined
      ? { kind: "unknown-place", fingerprint: key.fingerprint }
      : { kind: "other-place", fingerprint: key.fingerprint, place };
  }
  return { kind: "no-key" };
}
