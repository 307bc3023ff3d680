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
