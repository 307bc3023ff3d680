/**
 * The functions spec.template.data may call: Go's print family and index, and the Sprig
 * functions secret templates use (toJson, b64enc, quote, default, trim, indent, ...), with
 * Go's results (toJson escapes <, > and & like encoding/json; quote is Go's %q).
 */
import { createHash } from "node:crypto";
import { ErrorCodes, GuardError } from "../../errors.js";
import { decodeBase64 } from "./base64.js";
import { goJsonString } from "./go-json.js";

export const MISSING = Symbol("no value");
export type Value =
  string | number | boolean | null | Buffer | typeof MISSING | ReadonlyMap<string, Buffer>;

export function isDataMap(value: Value | undefined): value is ReadonlyMap<string, Buffer> {
  return value instanceof Map;
}

function fail(problem: string): never {
  throw new GuardError(ErrorCodes.UNSEAL_TEMPLATE_INVALID, `cannot be rendered: ${problem}`);
}

/** A string argument; Go refuses a missing value where a string is expected. */
function text(value: Value | undefined, fn: string): string {
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return fail(`${fn}: an argument has no value (a key that is not in encryptedData?)`);
}

function bytes(value: Value | undefined, fn: string): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(text(value, fn), "utf8");
}

function integer(value: Value | undefined, fn: string): number {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  return fail(`${fn}: expects a whole number`);
}

/** Sprig's strval: anything as text; nil as Go prints it. */
function strval(value: Value | undefined): string {
  if (value === undefined || value === null || value === MISSING) return "<nil>";
  if (isDataMap(value)) return "map[...]";
  return text(value, "");
}

function isEmpty(value: Value | undefined): boolean {
  if (value === undefined || value === null || value === MISSING) return true;
  if (Buffer.isBuffer(value) || typeof value === "string") return value.length === 0;
  if (isDataMap(value)) return value.size === 0;
  return value === 0 || value === false;
}

/** Go's encoding/json output for a template value (Sprig's toJson). */
function toJson(value: Value | undefined): string {
  if (value === undefined || value === null || value === MISSING) return "null";
  if (Buffer.isBuffer(value)) return goJsonString(value);
  if (typeof value === "string") return goJsonString(Buffer.from(value, "utf8"));
  if (isDataMap(value)) {
    const entries = [...value].sort(([a], [b]) => (a < b ? -1 : 1));
    const fields = entries.map(([k, v]) => `${goJsonString(Buffer.from(k))}:${goJsonString(v)}`);
    return `{${fields.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Go's fmt.Sprint: a space between two operands when neither is a string. */
function print(args: readonly Value[]): Buffer {
  const isText = (v: Value | undefined): boolean => Buffer.isBuffer(v) || typeof v === "string";
  const parts = args.map((arg, i) => {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(strval(arg));
    const spaced = i > 0 && !isText(arg) && !isText(args[i - 1]);
    return spaced ? Buffer.concat([Buffer.from(" "), bytes]) : bytes;
  });
  return Buffer.concat(parts);
}

function goQuote(value: string, quote: '"' | "'"): string {
  if (quote === "'") return `'${value}'`;
  return JSON.stringify(value);
}

function index(args: readonly Value[], values: ReadonlyMap<string, Buffer>): Value {
  const [map, key, extra] = args;
  if (map !== values || extra !== undefined || key === undefined) {
    return fail('index: use it as {{ index . "key" }}');
  }
  // Go's index of a missing map key is the zero value: an empty string, not <no value>.
  return values.get(text(key, "index")) ?? Buffer.alloc(0);
}

function printf(args: readonly Value[]): Buffer {
  const [format, ...rest] = args;
  const parts: Buffer[] = [];
  let next = 0;
  const source = text(format, "printf");
  let last = 0;
  for (const match of source.matchAll(/%([^a-zA-Z%]*)([a-zA-Z%])/g)) {
    parts.push(Buffer.from(source.slice(last, match.index), "utf8"));
    last = match.index + match[0].length;
    const [, flags, verb] = match;
    if (verb === "%" && flags === "") {
      parts.push(Buffer.from("%"));
      continue;
    }
    if (flags !== "" || verb === undefined || !"svdqx".includes(verb))
      fail(`printf: %${flags ?? ""}${verb ?? ""} is not supported (use %s, %v, %d, %q or %x)`);
    parts.push(formatVerb(verb, rest[next++]));
  }
  parts.push(Buffer.from(source.slice(last), "utf8"));
  return Buffer.concat(parts);
}

function formatVerb(verb: string, arg: Value | undefined): Buffer {
  if (arg === undefined) return fail("printf: fewer arguments than verbs");
  if (verb === "d") return Buffer.from(String(integer(arg, "printf %d")));
  if (verb === "q") return Buffer.from(goQuote(text(arg, "printf %q"), '"'));
  if (verb === "x") return Buffer.from(bytes(arg, "printf %x").toString("hex"));
  return Buffer.isBuffer(arg) ? arg : Buffer.from(strval(arg), "utf8");
}

function indentText(spaces: Value | undefined, value: Value | undefined, fn: string): string {
  const pad = " ".repeat(integer(spaces, fn));
  return pad + text(value, fn).replace(/\n/g, `\n${pad}`);
}

function b64dec(value: Value | undefined): Buffer {
  const decoded = decodeBase64(text(value, "b64dec"));
  return decoded ?? fail("b64dec: the argument is not valid base64");
}

/** A Secret holds at most 1 MiB; a template must not be a way to exhaust memory. */
export const MAX_RENDERED_BYTES = 1024 * 1024;

function repeat(count: number, value: string): string {
  if (count * Buffer.byteLength(value) > MAX_RENDERED_BYTES)
    fail("repeat: the result exceeds 1 MiB");
  return value.repeat(Math.max(0, count));
}

type Fn = (args: readonly Value[], values: ReadonlyMap<string, Buffer>) => Value;

/** name -> [argument count (undefined: any), implementation]. */
const FUNCTIONS = new Map<string, readonly [number | undefined, Fn]>([
  ["index", [2, index]],
  ["len", [1, ([v]) => (isDataMap(v) ? v.size : bytes(v, "len").length)]],
  ["print", [undefined, print]],
  ["printf", [undefined, printf]],
  ["b64enc", [1, ([v]) => bytes(v, "b64enc").toString("base64")]],
  ["b64dec", [1, ([v]) => b64dec(v)]],
  ["toJson", [1, ([v]) => toJson(v)]],
  ["toString", [1, ([v]) => strval(v)]],
  ["upper", [1, ([v]) => text(v, "upper").toUpperCase()]],
  ["lower", [1, ([v]) => text(v, "lower").toLowerCase()]],
  ["trim", [1, ([v]) => text(v, "trim").trim()]],
  [
    "trimPrefix",
    [
      2,
      ([p, v]) => {
        const s = text(v, "trimPrefix");
        const pre = text(p, "trimPrefix");
        return s.startsWith(pre) ? s.slice(pre.length) : s;
      },
    ],
  ],
  [
    "trimSuffix",
    [
      2,
      ([x, v]) => {
        const s = text(v, "trimSuffix");
        const suf = text(x, "trimSuffix");
        return suf !== "" && s.endsWith(suf) ? s.slice(0, -suf.length) : s;
      },
    ],
  ],
  [
    "replace",
    [3, ([o, n, v]) => text(v, "replace").split(text(o, "replace")).join(text(n, "replace"))],
  ],
  [
    "quote",
    [
      undefined,
      (args) =>
        args
          .filter((a) => a !== null && a !== MISSING)
          .map((a) => goQuote(strval(a), '"'))
          .join(" "),
    ],
  ],
  [
    "squote",
    [
      undefined,
      (args) =>
        args
          .filter((a) => a !== null && a !== MISSING)
          .map((a) => goQuote(strval(a), "'"))
          .join(" "),
    ],
  ],
  ["default", [2, ([d, v]) => (isEmpty(v) ? (d ?? null) : (v ?? null))]],
  ["indent", [2, ([n, v]) => indentText(n, v, "indent")]],
  ["nindent", [2, ([n, v]) => `\n${indentText(n, v, "nindent")}`]],
  ["sha256sum", [1, ([v]) => createHash("sha256").update(bytes(v, "sha256sum")).digest("hex")]],
  ["sha1sum", [1, ([v]) => createHash("sha1").update(bytes(v, "sha1sum")).digest("hex")]],
  [
    "cat",
    [
      undefined,
      (args) =>
        args
          .filter((a) => a !== null && a !== MISSING)
          .map(strval)
          .join(" "),
    ],
  ],
  ["contains", [2, ([s, v]) => text(v, "contains").includes(text(s, "contains"))]],
  ["hasPrefix", [2, ([p, v]) => text(v, "hasPrefix").startsWith(text(p, "hasPrefix"))]],
  ["hasSuffix", [2, ([p, v]) => text(v, "hasSuffix").endsWith(text(p, "hasSuffix"))]],
  ["repeat", [2, ([n, v]) => repeat(integer(n, "repeat"), text(v, "repeat"))]],
]);

export function isFunction(name: string): boolean {
  return FUNCTIONS.has(name);
}

export function callFunction(
  name: string,
  args: readonly Value[],
  values: ReadonlyMap<string, Buffer>,
): Value {
  const entry = FUNCTIONS.get(name);
  if (entry === undefined) return fail(`function "${name}" is not defined`);
  const [arity, fn] = entry;
  if (arity !== undefined && args.length !== arity) {
    fail(`wrong number of arguments for ${name}: want ${arity}, got ${args.length}`);
  }
  return fn(args, values);
}
