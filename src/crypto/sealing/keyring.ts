/**
 * The private keys a controller or a person holds. The wire format carries no key id, so
 * opening a value means trying keys; the keyring keeps that to about one RSA operation per
 * value: it skips keys that cannot fit the block, tries first the key that opened the same
 * RSA block before (controllers re-open unchanged objects on every resync), then the key
 * that opened the last value (one object's values are sealed with one key).
 */
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { publicKeyFingerprint } from "./fingerprint.js";
import { openPayload, openSessionKey, type SealedParts } from "./hybrid.js";

export interface SealingKey {
  readonly fingerprint: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** RSA modulus size in bytes: the size of every RSA block this key opens. */
  readonly blockBytes: number;
  readonly modulus: bigint;
  /** When the key became current (certificate NotBefore), ms since the epoch; orders keys. */
  readonly since: number;
  /** The PEM certificate that goes with the key, when known. */
  readonly certificatePem?: string;
  /** Where the key came from (a file, a Secret), for people reading messages. */
  readonly source?: string;
}

export interface SealingKeyOptions {
  readonly since?: number;
  readonly certificatePem?: string;
  readonly source?: string;
}

function unsigned(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString("hex")}`);
}

export function sealingKey(privateKey: KeyObject, options: SealingKeyOptions = {}): SealingKey {
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.kty !== "RSA" || jwk.n === undefined) throw new TypeError("not an RSA key");
  const modulusBytes = Buffer.from(jwk.n, "base64url");
  return {
    fingerprint: publicKeyFingerprint(publicKey),
    privateKey,
    publicKey,
    blockBytes: modulusBytes.length,
    modulus: unsigned(modulusBytes),
    since: options.since ?? 0,
    ...(options.certificatePem === undefined ? {} : { certificatePem: options.certificatePem }),
    ...(options.source === undefined ? {} : { source: options.source }),
  };
}

export interface OpenedValue {
  readonly plaintext: Buffer;
  /** The fingerprint of the key that opened it: tells which values still need an old key. */
  readonly fingerprint: string;
}

const MAX_HINTS = 10_000;

export class Keyring {
  private readonly byFingerprint = new Map<string, SealingKey>();
  /** Try order: the key that succeeded last comes first. */
  private order: SealingKey[] = [];
  /** SHA-256 of an RSA block -> the fingerprint that opened it; insertion order is recency. */
  private readonly hints = new Map<string, string>();
  private operations = 0;

  constructor(keys: Iterable<SealingKey> = []) {
    for (const key of keys) this.add(key);
  }

  /** Adds a key; false when a key with the same fingerprint is already held. */
  add(key: SealingKey): boolean {
    if (this.byFingerprint.has(key.fingerprint)) return false;
    this.byFingerprint.set(key.fingerprint, key);
    this.order = [...this.order, key].sort((a, b) => b.since - a.since);
    return true;
  }

  /** RSA private-key operations open() has made so far: what the key selection saves. */
  get rsaOperations(): number {
    return this.operations;
  }

  get size(): number {
    return this.byFingerprint.size;
  }

  get(fingerprint: string): SealingKey | undefined {
    return this.byFingerprint.get(fingerprint);
  }

  /** Every key, newest first. */
  keys(): SealingKey[] {
    return [...this.byFingerprint.values()].sort((a, b) => b.since - a.since);
  }

  /** The key new values are sealed with: the one with the latest `since`. */
  latest(): SealingKey | undefined {
    return this.keys()[0];
  }

  blockSizes(): ReadonlySet<number> {
    return new Set([...this.byFingerprint.values()].map((k) => k.blockBytes));
  }

  /**
   * Opens a value with whichever key fits; undefined when none does under this label. Throws
   * UNSEAL_TAMPERED when a key opens the RSA block but the AES-GCM part fails authentication.
   */
  open(parts: SealedParts, label: Buffer): OpenedValue | undefined {
    const blockId = createHash("sha256").update(parts.rsaBlock).digest("base64");
    const block = unsigned(parts.rsaBlock);
    for (const key of this.candidates(blockId)) {
      if (key.blockBytes !== parts.rsaBlock.length || block >= key.modulus) continue;
      this.operations++;
      const sessionKey = openSessionKey(key.privateKey, parts.rsaBlock, label);
      if (sessionKey === undefined) continue;
      const plaintext = openPayload(sessionKey, parts.aesPart);
      this.remember(blockId, key);
      return { plaintext, fingerprint: key.fingerprint };
    }
    return undefined;
  }

  private *candidates(blockId: string): Generator<SealingKey> {
    const hinted = this.hints.get(blockId);
    const first = hinted === undefined ? undefined : this.byFingerprint.get(hinted);
    if (first !== undefined) yield first;
    for (const key of this.order) if (key !== first) yield key;
  }

  private remember(blockId: string, key: SealingKey): void {
    this.hints.delete(blockId);
    this.hints.set(blockId, key.fingerprint);
    if (this.hints.size > MAX_HINTS) {
      const oldest = this.hints.keys().next();
      if (oldest.done !== true) this.hints.delete(oldest.value);
    }
    if (this.order[0] !== key) this.order = [key, ...this.order.filter((k) => k !== key)];
  }
}
