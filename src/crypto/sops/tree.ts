/**
 * The in-memory shape of a SOPS document, close to sops's own tree: mappings keep their key
 * order and comments in place (a JS object would move keys such as "2" to the front, and the
 * MAC depends on the order), integers are bigint so values above 2^53 stay exact, and floats
 * stay JS numbers so the two types never blur.
 */

/** A comment line, without its marker. Comments are never data and never part of the MAC. */
export interface SopsComment {
  readonly kind: "comment";
  readonly text: string;
}

/** A timestamp, kept as Go's RFC 3339 text (time.Time.MarshalText), which the MAC hashes. */
export interface SopsTime {
  readonly kind: "time";
  readonly text: string;
}

export interface SopsMap {
  readonly kind: "map";
  readonly entries: readonly SopsEntry[];
}

export interface SopsList {
  readonly kind: "list";
  readonly items: readonly SopsListItem[];
}

/** bigint is an integer, number a float; Uint8Array only comes from sops's `type:bytes`. */
export type SopsScalar = string | bigint | number | boolean | null | SopsTime | Uint8Array;

export type SopsValue = SopsScalar | SopsMap | SopsList;

export interface SopsPair {
  readonly key: string;
  readonly value: SopsValue;
}

export type SopsEntry = SopsPair | SopsComment;

export type SopsListItem = SopsValue | SopsComment;

/** One document of a file: YAML files may hold several, every other format one. */
export type SopsDocument = SopsMap;

export function comment(text: string): SopsComment {
  return { kind: "comment", text };
}

export function sopsMap(entries: readonly SopsEntry[]): SopsMap {
  return { kind: "map", entries };
}

export function sopsList(items: readonly SopsListItem[]): SopsList {
  return { kind: "list", items };
}

export function sopsTime(text: string): SopsTime {
  return { kind: "time", text };
}

function hasKind(value: unknown, kind: string): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    (value as { kind?: unknown }).kind === kind
  );
}

export function isComment(value: unknown): value is SopsComment {
  return hasKind(value, "comment");
}

export function isMap(value: unknown): value is SopsMap {
  return hasKind(value, "map");
}

export function isList(value: unknown): value is SopsList {
  return hasKind(value, "list");
}

export function isTime(value: unknown): value is SopsTime {
  return hasKind(value, "time");
}

export function isPair(entry: SopsEntry): entry is SopsPair {
  return !isComment(entry);
}

/** The value under key in a mapping, or undefined; comments are skipped. */
export function lookup(map: SopsMap, key: string): SopsValue | undefined {
  for (const entry of map.entries) {
    if (isPair(entry) && entry.key === key) return entry.value;
  }
  return undefined;
}
