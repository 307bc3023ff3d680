/**
 * Takes the `sops` metadata out of the data, as sops's stores/metadata.go ExtractMetadata
 * does: YAML and JSON keep it under a top-level `sops` key (read from the first document,
 * removed from every document), INI flattens it under a `[sops]` section, dotenv flattens it
 * into `sops_`-prefixed keys (`sops_age__list_0__map_enc`). The result is plain data that
 * metadata.ts checks.
 */
import { FormatError, metadataError } from "./format-error.js";
import { ErrorCodes } from "../../errors.js";
import {
  isComment,
  isList,
  isMap,
  isPair,
  isTime,
  sopsMap,
  type SopsDocument,
  type SopsValue,
} from "./tree.js";

export type MetadataLayout = "nested" | "flat-section" | "flat-prefixed";

export interface Extracted {
  readonly documents: SopsDocument[];
  readonly metadata: Readonly<Record<string, unknown>>;
}

const SOPS_KEY = "sops";
const PREFIX = "sops_";
const MAP_SEPARATOR = "__map_";
const LIST_SEPARATOR = "__list_";

/** Metadata as plain data: mappings as null-prototype records, comments dropped. */
export function toPlain(value: SopsValue): unknown {
  if (isMap(value)) {
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const entry of value.entries) {
      if (isPair(entry)) out[entry.key] = toPlain(entry.value);
    }
    return out;
  }
  if (isList(value)) {
    return value.items.filter((item) => !isComment(item)).map((item) => toPlain(item as SopsValue));
  }
  return isTime(value) ? value.text : value;
}

function notFound(): FormatError {
  return new FormatError(
    "the file has no sops metadata: it is not SOPS-encrypted",
    ErrorCodes.SOPS_METADATA_MISSING,
  );
}

function extractNested(documents: readonly SopsDocument[]): {
  documents: SopsDocument[];
  metadata: SopsValue;
} {
  let metadata: SopsValue | undefined;
  const stripped = documents.map((doc, index) => {
    const kept = doc.entries.filter((entry) => {
      if (!isPair(entry) || entry.key !== SOPS_KEY) return true;
      if (index === 0) {
        if (metadata !== undefined) throw metadataError(`found duplicate ${SOPS_KEY} entry`);
        metadata = entry.value;
      }
      return false;
    });
    return sopsMap(kept);
  });
  if (metadata === undefined) throw notFound();
  return { documents: stripped, metadata };
}

function extractPrefixed(documents: readonly SopsDocument[]): {
  documents: SopsDocument[];
  metadata: SopsValue;
} {
  const [first, ...rest] = documents;
  if (first === undefined) throw notFound();
  const metadata = first.entries.filter((e) => isPair(e) && e.key.startsWith(PREFIX));
  if (metadata.length === 0) throw notFound();
  const renamed = metadata.map((e) =>
    isPair(e) ? { key: e.key.slice(PREFIX.length), value: e.value } : e,
  );
  const data = sopsMap(first.entries.filter((e) => !(isPair(e) && e.key.startsWith(PREFIX))));
  return { documents: [data, ...rest], metadata: sopsMap(renamed) };
}

type Token = { readonly map: string } | { readonly index: number };

/** Splits a flattened key into map and list steps, as sops's tokenize does. */
function tokenize(path: string): Token[] {
  const parts = path.split(new RegExp(`(${MAP_SEPARATOR}|${LIST_SEPARATOR})`));
  const tokens: Token[] = [{ map: parts[0] ?? "" }];
  for (let i = 1; i < parts.length; i += 2) {
    const text = parts[i + 1] ?? "";
    tokens.push(
      parts[i] === LIST_SEPARATOR ? { index: Number.parseInt(text, 10) || 0 } : { map: text },
    );
  }
  return tokens;
}

interface Slot {
  value?: unknown;
  keys?: Map<string, Slot>;
  indices?: Map<number, Slot>;
}

function step(slot: Slot, token: Token): Slot {
  const table = "map" in token ? (slot.keys ??= new Map()) : (slot.indices ??= new Map());
  const key = "map" in token ? token.map : token.index;
  const existing = (table as Map<string | number, Slot>).get(key);
  if (existing !== undefined) return existing;
  const created: Slot = {};
  (table as Map<string | number, Slot>).set(key, created);
  return created;
}

function buildList(indices: ReadonlyMap<number, Slot>): unknown[] {
  const order = [...indices.keys()].sort((a, b) => a - b);
  if (order.some((index, i) => index !== i)) {
    throw metadataError("flattened metadata has an incomplete list");
  }
  return order.map((index) => build(indices.get(index) ?? {}));
}

function buildMap(keys: ReadonlyMap<string, Slot>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, child] of keys) out[key] = build(child);
  return out;
}

function build(slot: Slot): unknown {
  const keys = slot.keys ?? new Map<string, Slot>();
  const indices = slot.indices ?? new Map<number, Slot>();
  const kinds = [slot.value !== undefined, keys.size > 0, indices.size > 0];
  if (kinds.filter(Boolean).length > 1) {
    throw metadataError("flattened metadata mixes values, maps and lists");
  }
  if (slot.value !== undefined) return slot.value;
  return indices.size > 0 ? buildList(indices) : buildMap(keys);
}

function unflatten(value: SopsValue, escapedNewlines: boolean): Record<string, unknown> {
  if (!isMap(value)) throw metadataError(`the ${SOPS_KEY} entry is not a mapping`);
  const root: Slot = {};
  for (const entry of value.entries) {
    if (!isPair(entry)) continue;
    const slot = tokenize(entry.key).reduce(step, root);
    if (slot.value !== undefined)
      throw metadataError(`duplicate flattened metadata key ${entry.key}`);
    const plain = toPlain(entry.value);
    slot.value =
      escapedNewlines && typeof plain === "string" ? plain.replaceAll("\\n", "\n") : plain;
  }
  return build(root) as Record<string, unknown>;
}

/** Splits metadata from data. Throws FormatError (METADATA_MISSING when there is none). */
export function extractMetadata(
  documents: readonly SopsDocument[],
  layout: MetadataLayout,
): Extracted {
  if (layout === "flat-prefixed") {
    const found = extractPrefixed(documents);
    return { documents: found.documents, metadata: unflatten(found.metadata, false) };
  }
  const found = extractNested(documents);
  if (layout === "flat-section") {
    return { documents: found.documents, metadata: unflatten(found.metadata, true) };
  }
  const plain = toPlain(found.metadata);
  if (typeof plain !== "object" || plain === null || Array.isArray(plain)) {
    throw metadataError(`the ${SOPS_KEY} entry is not a mapping`);
  }
  return { documents: found.documents, metadata: plain as Record<string, unknown> };
}
