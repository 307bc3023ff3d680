import { FIELD_MANAGER } from "../../kube/client.js";
import type { KubeObject, ManagedFieldsEntry } from "../../kube/objects.js";

type Json = unknown;

function isRecord(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 6901 escaping of one reference token. */
function token(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

function scalarEqual(want: Json, have: Json): boolean {
  if (want === have) return true;
  // "1" and 1, true and "true": what YAML wrote and what the server echoes may differ in type.
  const kinds = ["string", "number", "boolean"];
  return (
    kinds.includes(typeof want) && kinds.includes(typeof have) && String(want) === String(have)
  );
}

/**
 * Every JSON pointer at which live differs from want, where want is what Git sets: fields Git
 * does not mention (server defaults, other managers' fields) are not drift. Arrays compare
 * element by element (a defaulted field inside a container is not drift), and a different
 * length is drift of the whole array.
 */
function collect(want: Json, have: Json, path: string, out: string[]): void {
  if (isRecord(want)) {
    if (!isRecord(have)) {
      out.push(path);
      return;
    }
    for (const [key, value] of Object.entries(want))
      collect(value, have[key], `${path}/${token(key)}`, out);
    return;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) {
      out.push(path);
      return;
    }
    want.forEach((item, i) => {
      collect(item, have[i], `${path}/${String(i)}`, out);
    });
    return;
  }
  if (want === null ? have !== null && have !== undefined : !scalarEqual(want, have))
    out.push(path);
}

/** A Secret's stringData is stored as base64 data: compare what the server keeps. */
function comparable(desired: KubeObject): KubeObject {
  const stringData = desired["stringData"];
  if (desired.kind !== "Secret" || !isRecord(stringData)) return desired;
  const { stringData: _plain, ...rest } = desired;
  const data: Record<string, Json> = isRecord(desired["data"]) ? { ...desired["data"] } : {};
  for (const [key, value] of Object.entries(stringData))
    data[key] = Buffer.from(String(value), "utf8").toString("base64");
  return { ...rest, data };
}

/** The pointers where live differs from desired on fields Git sets. Pure. */
export function driftedPaths(desired: KubeObject, live: KubeObject): string[] {
  const want = comparable(desired);
  const out: string[] = [];
  const { apiVersion: _v, kind: _k, metadata, ...body } = want;
  collect(body, live, "", out);
  if (metadata.labels !== undefined)
    collect(metadata.labels, live.metadata.labels, "/metadata/labels", out);
  if (metadata.annotations !== undefined)
    collect(metadata.annotations, live.metadata.annotations, "/metadata/annotations", out);
  return out;
}

/** True when path is pointer or lies under it. */
export function covers(pointer: string, path: string): boolean {
  return path === pointer || path.startsWith(`${pointer}/`);
}

function unescape(part: string): string {
  return part.replaceAll("~1", "/").replaceAll("~0", "~");
}

function removeAt(value: Json, parts: readonly string[]): Json {
  const [head, ...rest] = parts;
  if (head === undefined) return undefined;
  if (Array.isArray(value)) {
    const i = Number(head);
    if (rest.length === 0) return value; // an element of a list stays: only fields are dropped
    return value.map((item: Json, n) => (n === i ? removeAt(item, rest) : item));
  }
  if (!isRecord(value) || !(head in value)) return value;
  if (rest.length === 0) {
    const { [head]: _gone, ...kept } = value;
    return kept;
  }
  return { ...value, [head]: removeAt(value[head], rest) };
}

/**
 * desired without the fields at pointers: the apply then leaves them to whoever set them (an
 * ignored field is ignored by the heal too, not only by the comparison).
 */
export function withoutPointers(desired: KubeObject, pointers: readonly string[]): KubeObject {
  let out: Json = desired;
  for (const pointer of pointers) out = removeAt(out, pointer.split("/").slice(1).map(unescape));
  return out as KubeObject;
}

function isSpecEntry(entry: ManagedFieldsEntry): boolean {
  return (
    entry.subresource === undefined || entry.subresource === "" || entry.subresource === "scale"
  );
}

/**
 * The field manager of the latest change to the object (status writes aside). managedFields
 * times have second precision: on a tie another manager wins over ours, so an edit made in the
 * same second as our apply is still looked at.
 */
export function lastManager(live: KubeObject): string | undefined {
  let best: ManagedFieldsEntry | undefined;
  for (const entry of live.metadata.managedFields ?? []) {
    if (isSpecEntry(entry) && (best === undefined || later(entry, best))) best = entry;
  }
  return best?.manager;
}

/**
 * What lastManager reads of managedFields: the spec entries without their field sets. fieldsV1
 * is most of the size of an object applied server-side, and a watch cache of every inventoried
 * object keeps only this. lastManager(o) is the same before and after.
 */
export function managersOnly(entries: readonly ManagedFieldsEntry[]): ManagedFieldsEntry[] {
  return entries.filter(isSpecEntry).map(({ fieldsV1: _fields, ...entry }) => entry);
}

function later(entry: ManagedFieldsEntry, than: ManagedFieldsEntry): boolean {
  const time = entry.time ?? "";
  const thanTime = than.time ?? "";
  return time > thanTime || (time === thanTime && than.manager === FIELD_MANAGER);
}
