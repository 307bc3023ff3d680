/**
 * Narrowing untrusted documents (YAML or JSON a person wrote) into the few shapes sealing
 * needs. Scalars in string maps become strings the way kubectl's YAML-to-JSON step makes them
 * (true -> "true", 0x1F -> "31", null -> ""), so sealing sees what the API server would.
 */
import type { ErrorCode } from "../../errors.js";
import { GuardError } from "../../errors.js";

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Everything else in metadata, kept as written. */
  readonly [field: string]: unknown;
}

/** Throws `code` with "<where>: <problem>". */
export type Fail = (problem: string) => never;

export function failWith(code: ErrorCode, where: string): Fail {
  return (problem: string): never => {
    throw new GuardError(code, `${where}: ${problem}`);
  };
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value === null) return "";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/** A map of strings, or undefined when absent; anything else fails naming the field. */
export function stringMap(
  value: unknown,
  field: string,
  fail: Fail,
): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) return fail(`${field} must be a map of strings`);
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    const text = scalarText(item);
    if (text === undefined) return fail(`${field}.${key} must be a string`);
    out[key] = text;
  }
  return out;
}

function optionalString(value: unknown, field: string, fail: Fail): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const text = scalarText(value);
  return text ?? fail(`${field} must be a string`);
}

export function objectMeta(value: unknown, field: string, fail: Fail): ObjectMeta {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) return fail(`${field} must be a map`);
  const name = optionalString(value.name, `${field}.name`, fail);
  const namespace = optionalString(value.namespace, `${field}.namespace`, fail);
  const labels = stringMap(value.labels, `${field}.labels`, fail);
  const annotations = stringMap(value.annotations, `${field}.annotations`, fail);
  const { name: _n, namespace: _ns, labels: _l, annotations: _a, ...rest } = value;
  return {
    ...rest,
    ...(name === undefined ? {} : { name }),
    ...(namespace === undefined ? {} : { namespace }),
    ...(labels === undefined ? {} : { labels }),
    ...(annotations === undefined ? {} : { annotations }),
  };
}

/** A Secret's `type` and `immutable`, checked; `prefix` is where they sit ("" or "spec.template."). */
export function typeAndImmutable(
  value: JsonRecord,
  prefix: string,
  fail: Fail,
): { type?: string; immutable?: boolean } {
  const { type, immutable } = value;
  if (type !== undefined && typeof type !== "string") fail(`${prefix}type must be a string`);
  if (immutable !== undefined && typeof immutable !== "boolean") {
    fail(`${prefix}immutable must be true or false`);
  }
  return {
    ...(typeof type === "string" ? { type } : {}),
    ...(typeof immutable === "boolean" ? { immutable } : {}),
  };
}

/** "ns/name", "name" or "(unnamed)": how messages name an object. */
export function objectName(meta: ObjectMeta): string {
  const name = meta.name ?? "(unnamed)";
  return meta.namespace === undefined ? name : `${meta.namespace}/${name}`;
}

/** A map with its keys in sorted order, as Go's encoders write maps: stable diffs in Git. */
export function sortedRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

/** Secrets, with any v1 List (kubectl get -o yaml of several) opened up. */
export function flattenLists(documents: readonly unknown[]): unknown[] {
  return documents.flatMap((doc) =>
    isRecord(doc) && doc.kind === "List" && Array.isArray(doc.items)
      ? flattenLists(doc.items)
      : [doc],
  );
}
