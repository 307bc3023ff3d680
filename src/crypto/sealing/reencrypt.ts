/**
 * Re-encrypting a SealedSecret for another key (usually the newest) without a controller:
 * each item is opened and sealed again under the same label, and everything else (metadata,
 * scope, template, template.data) stays as written. Bitnami's /v1/rotate instead rebuilds
 * the object from the unsealed Secret, which turns rendered template.data into encrypted
 * items; keeping the structure keeps Git diffs to the values that changed.
 */
import type { KeyObject } from "node:crypto";
import { encodeBase64 } from "./base64.js";
import { hybridEncrypt } from "./hybrid.js";
import type { SealedSecret } from "./sealed-secret.js";
import { scopeOf, sealingLabel } from "./scope.js";
import { sortedRecord } from "./shapes.js";
import { openSealedItems, type UnsealOptions } from "./unseal.js";

export interface ReencryptTarget {
  readonly publicKey: KeyObject;
  /** The target key's fingerprint: items already sealed for it are left as they are. */
  readonly fingerprint: string;
}

export interface ReencryptedItems {
  /** The new base64 value of each item that was sealed for another key. */
  readonly values: Readonly<Record<string, string>>;
  /** The fingerprint each of those items was sealed for. */
  readonly from: ReadonlyMap<string, string>;
}

/**
 * Seals again, for the target key, only the items sealed for another key (a Git diff then
 * shows just those); throws as openSealedItems does when an item does not open.
 */
export function reencryptStaleItems(
  ss: SealedSecret,
  target: ReencryptTarget,
  options: UnsealOptions,
): ReencryptedItems {
  const { values, openedWith } = openSealedItems(ss, options);
  const { namespace = "", name } = ss.metadata;
  const label = sealingLabel(scopeOf(ss.metadata.annotations), namespace, name);
  const out: Record<string, string> = {};
  const from = new Map<string, string>();
  for (const [key, value] of values) {
    const fingerprint = openedWith.get(key);
    if (fingerprint === undefined || fingerprint === target.fingerprint) continue;
    out[key] = encodeBase64(hybridEncrypt(target.publicKey, value, label));
    from.set(key, fingerprint);
  }
  return { values: out, from };
}

export function reencryptSealedSecret(
  ss: SealedSecret,
  publicKey: KeyObject,
  options: UnsealOptions,
): SealedSecret {
  const { values } = openSealedItems(ss, options);
  const { namespace = "", name } = ss.metadata;
  const label = sealingLabel(scopeOf(ss.metadata.annotations), namespace, name);
  const encryptedData: Record<string, string> = {};
  for (const [key, value] of values) {
    encryptedData[key] = encodeBase64(hybridEncrypt(publicKey, value, label));
  }
  const { status: _status, ...rest } = ss;
  return { ...rest, spec: { ...ss.spec, encryptedData: sortedRecord(encryptedData) } };
}
