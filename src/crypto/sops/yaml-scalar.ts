/**
 * Types a YAML scalar the way sops's YAML parser (go-yaml v3, resolve.go) does, because an
 * unencrypted leaf enters the MAC in its Go-typed form: `port: 0x1F` is hashed as "31",
 * `on: true` as "True", `2024-01-01` as "2024-01-01T00:00:00Z". Only true/false are booleans
 * (YAML 1.2), ints are int64 (never rounded), larger numbers become float64.
 */
import { FormatError } from "./format-error.js";
import { fitsInt64, parseGoFloat, parseYamlTimestamp } from "./go-values.js";
import { sopsTime, type SopsScalar } from "./tree.js";

type Resolved = { readonly tag: string; readonly value: SopsScalar };

function words(texts: readonly string[], resolved: Resolved): [string, Resolved][] {
  return texts.map((text) => [text, resolved]);
}

const WORDS: ReadonlyMap<string, Resolved> = new Map([
  ...words(["true", "True", "TRUE"], { tag: "bool", value: true }),
  ...words(["false", "False", "FALSE"], { tag: "bool", value: false }),
  ...words(["", "~", "null", "Null", "NULL"], { tag: "null", value: null }),
  ...words([".nan", ".NaN", ".NAN"], { tag: "float", value: NaN }),
  ...words([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"], { tag: "float", value: Infinity }),
  ...words(["-.inf", "-.Inf", "-.INF"], { tag: "float", value: -Infinity }),
]);

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const GO_INT = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;

/** strconv.ParseInt/ParseUint with base 0: the magnitude and sign, or undefined. */
function parseGoIntBase0(text: string): { negative: boolean; signed: boolean; magnitude: bigint } {
  const match = GO_INT.exec(text);
  if (match === null) throw new RangeError("not an integer");
  const body = match[2] ?? "";
  const octal = /^0[0-7]+$/.test(body) ? `0o${body.slice(1)}` : body;
  return { negative: match[1] === "-", signed: match[1] !== "", magnitude: BigInt(octal) };
}

function resolveInteger(plain: string): Resolved | undefined {
  if (!GO_INT.test(plain)) return undefined;
  const { negative, signed, magnitude } = parseGoIntBase0(plain);
  const value = negative ? -magnitude : magnitude;
  if (fitsInt64(value)) return { tag: "int", value };
  // go-yaml returns a uint64 here, a type sops cannot walk: "unknown type: uint64".
  if (!signed && magnitude < 2n ** 64n) {
    throw new FormatError("an integer between 2^63 and 2^64 is not supported by sops");
  }
  return undefined;
}

function resolveNumeric(text: string, allowTimestamp: boolean): Resolved | undefined {
  if (allowTimestamp) {
    const time = parseYamlTimestamp(text);
    if (time !== undefined) return { tag: "timestamp", value: sopsTime(time) };
  }
  const plain = text.replaceAll("_", "");
  const integer = resolveInteger(plain);
  if (integer !== undefined) return integer;
  if (!YAML_STYLE_FLOAT.test(plain)) return undefined;
  const value = parseGoFloat(plain);
  return value === undefined ? undefined : { tag: "float", value };
}

function resolvePlain(text: string, allowTimestamp: boolean): Resolved {
  const word = WORDS.get(text);
  if (word !== undefined) return word;
  const first = text.charAt(0);
  if (first === ".") {
    const value = parseGoFloat(text);
    if (value !== undefined) return { tag: "float", value };
  } else if (/^[-+0-9]$/.test(first)) {
    const numeric = resolveNumeric(text, allowTimestamp);
    if (numeric !== undefined) return numeric;
  }
  return { tag: "str", value: text };
}

const RESOLVABLE = new Set(["", "str", "bool", "int", "float", "null", "timestamp"]);

function shortTag(tag: string | undefined): string {
  if (tag === undefined || tag === "!") return "";
  return tag.startsWith("tag:yaml.org,2002:") ? tag.slice("tag:yaml.org,2002:".length) : tag;
}

/**
 * The value of a plain (unquoted) scalar with an optional explicit tag. Quoted and block
 * scalars are always strings and do not come here.
 */
export function resolveYamlPlain(text: string, explicitTag?: string): SopsScalar {
  const tag = shortTag(explicitTag);
  if (tag === "str" || !RESOLVABLE.has(tag)) return text;
  const resolved = resolvePlain(text, tag === "" || tag === "timestamp");
  if (tag === "" || tag === resolved.tag) return resolved.value;
  if (tag === "float" && typeof resolved.value === "bigint") return Number(resolved.value);
  throw new FormatError(`a value tagged !!${tag} does not read as one`);
}
