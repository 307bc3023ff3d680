import jsonpatch from "fast-json-patch";
import type { KubeObject } from "../../kube/objects.js";
import { secretValueDigest, type FieldChange } from "../journal/record.js";
import { normalizeObject } from "./normalize.js";
import { sameScalar } from "./quantity.js";

export interface DiffOptions {
  /** JSON pointers whose changes are not drift (GuardPolicy spec.ignoreFields for this kind). */
  readonly ignore?: readonly string[];
}

/** RFC 6901: "~" and "/" in a key are escaped. */
function escapeKey(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

function ignored(path: string, ignore: readonly string[]): boolean {
  return ignore.some((p) => path === p || path.startsWith(`${p}/`));
}

function valueAt(doc: unknown, path: string): unknown {
  try {
    return jsonpatch.getValueByPointer(doc, path) as unknown;
  } catch {
    return undefined;
  }
}

function toChange(op: jsonpatch.Operation, before: unknown): FieldChange | undefined {
  switch (op.op) {
    case "add":
      return { path: op.path, op: "add", to: op.value as unknown };
    case "remove":
      return { path: op.path, op: "remove", from: valueAt(before, op.path) };
    case "replace":
      return {
        path: op.path,
        op: "replace",
        from: valueAt(before, op.path),
        to: op.value as unknown,
      };
    default:
      return undefined;
  }
}

/**
 * The field-level change between two states of one object (the informer's old and new), as
 * JSON pointers. Status, server-set metadata and the ignored pointers are left out; a Secret's
 * values appear only as digests.
 */
export function fieldDiff(
  before: KubeObject,
  after: KubeObject,
  options: DiffOptions = {},
): FieldChange[] {
  const a = normalizeObject(before);
  const b = normalizeObject(after);
  const ignore = options.ignore ?? [];
  const changes: FieldChange[] = [];
  for (const op of jsonpatch.compare(a, b)) {
    const change = toChange(op, a);
    if (change !== undefined && !ignored(change.path, ignore)) changes.push(change);
  }
  return changes;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Git's "nothing here" (null, {} or []) equals a field the server dropped or left empty. */
function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isRecord(value) && Object.keys(value).length === 0;
}

interface Walk {
  readonly ignore: readonly string[];
  readonly out: FieldChange[];
}

function walkArray(want: unknown[], live: unknown, path: string, walk: Walk): void {
  if (!Array.isArray(live) || live.length !== want.length) {
    walk.out.push({ path, op: "replace", from: want, to: live });
    return;
  }
  want.forEach((item, i) => {
    compareAt(item, live[i], `${path}/${String(i)}`, walk);
  });
}

function walkRecord(want: Record<string, unknown>, live: unknown, path: string, walk: Walk): void {
  if (!isRecord(live)) {
    walk.out.push({ path, op: "replace", from: want, to: live });
    return;
  }
  for (const [key, value] of Object.entries(want)) {
    compareAt(value, live[key], `${path}/${escapeKey(key)}`, walk);
  }
}

function compareAt(want: unknown, live: unknown, path: string, walk: Walk): void {
  if (ignored(path, walk.ignore)) return;
  if (live === undefined) {
    if (!isEmpty(want)) walk.out.push({ path, op: "remove", from: want });
    return;
  }
  if (Array.isArray(want)) {
    walkArray(want, live, path, walk);
    return;
  }
  if (isRecord(want)) {
    walkRecord(want, live, path, walk);
    return;
  }
  if (!sameScalar(want, live) && !(want === null && isEmpty(live))) {
    walk.out.push({ path, op: "replace", from: want, to: live });
  }
}

/**
 * Drift of a live object from what Git says: every field Git sets that the live object lacks or
 * holds otherwise. Fields only the live object has are defaults or other owners' (the API
 * server, controllers), not drift; that is what keeps a freshly applied object at zero drift.
 * "from" is Git's value, "to" the live one.
 */
export function desiredDrift(
  desired: KubeObject,
  live: KubeObject,
  options: DiffOptions = {},
): FieldChange[] {
  const walk: Walk = { ignore: options.ignore ?? [], out: [] };
  const want = normalizeObject(desired);
  const have = normalizeObject(live);
  for (const [key, value] of Object.entries(want)) {
    compareAt(value, have[key], `/${escapeKey(key)}`, walk);
  }
  return walk.out;
}

function digestOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && /^sha256:[0-9a-f]{64}$/.test(value)) return value;
  return secretValueDigest(JSON.stringify(value));
}

/**
 * A Secret's changes as the journal may hold them: every value a digest. Data values are
 * digests already (normalizeObject); a whole data map added or removed is split per key, and
 * any other value (labels, type) is digested too, since the journal refuses anything else.
 */
export function secretSafeChanges(changes: readonly FieldChange[]): FieldChange[] {
  const out: FieldChange[] = [];
  for (const change of changes) {
    const value = change.op === "remove" ? change.from : change.to;
    if (change.path === "/data" && isRecord(value) && change.op !== "replace") {
      for (const [key, digest] of Object.entries(value)) {
        const path = `/data/${escapeKey(key)}`;
        const d = digestOf(digest);
        out.push(
          change.op === "add" ? { path, op: "add", to: d } : { path, op: "remove", from: d },
        );
      }
      continue;
    }
    const from = digestOf(change.from);
    const to = digestOf(change.to);
    out.push({
      path: change.path,
      op: change.op,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
    });
  }
  return out;
}
