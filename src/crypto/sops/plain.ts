/**
 * Decrypted documents as plain JS values for callers that build objects (Kubernetes
 * manifests, Secret data): comments dropped, integers as numbers when they are safe and as
 * bigint when they are not (never rounded), times as their RFC 3339 text.
 */
import { isComment, isList, isMap, isTime, type SopsValue } from "./tree.js";

export type PlainValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | PlainValue[]
  | { [key: string]: PlainValue };

function plainInteger(value: bigint): number | bigint {
  const small = Number(value);
  return Number.isSafeInteger(small) ? small : value;
}

export function toPlainValue(value: SopsValue): PlainValue {
  if (isMap(value)) {
    // fromEntries defines own properties, so a "__proto__" key stays data.
    const pairs = value.entries.flatMap((e) =>
      isComment(e) ? [] : [[e.key, toPlainValue(e.value)] as const],
    );
    return Object.fromEntries(pairs);
  }
  if (isList(value)) {
    return value.items.flatMap((item) => (isComment(item) ? [] : [toPlainValue(item)]));
  }
  if (isTime(value)) return value.text;
  return typeof value === "bigint" ? plainInteger(value) : value;
}
