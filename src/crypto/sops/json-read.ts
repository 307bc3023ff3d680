/**
 * Reads a JSON document into a SOPS tree the way sops's JSON store does: key order kept
 * (JSON.parse would move keys such as "2" first, and the MAC follows the file's order),
 * duplicate keys kept, numbers typed as sops 3.13.2+ types them (int when the text is an
 * integer within int64, float64 otherwise), never rounded through a JS number first.
 * JSON.parse checks the syntax; the `yaml` package, which reads JSON as YAML flow, supplies
 * the order and each scalar's source text.
 */
import { isMap, isScalar, isSeq, parseDocument, type Pair, type YAMLMap, type YAMLSeq } from "yaml";
import { FormatError } from "./format-error.js";
import { fitsInt64 } from "./go-values.js";
import { sopsList, sopsMap, type SopsMap, type SopsScalar, type SopsValue } from "./tree.js";

const WORDS: ReadonlyMap<string, SopsScalar> = new Map<string, SopsScalar>([
  ["true", true],
  ["false", false],
  ["null", null],
]);

/** json.Number through sops's normalizeJSONNumber. */
function jsonNumber(text: string): bigint | number {
  if (/^-?[0-9]+$/.test(text)) {
    const integer = BigInt(text);
    if (fitsInt64(integer)) return integer;
  }
  const value = Number(text);
  if (!Number.isFinite(value)) throw new FormatError("a JSON number is out of the float64 range");
  return value;
}

function readValue(node: unknown): SopsValue {
  if (isMap(node)) return readObject(node);
  if (isSeq(node)) return readArray(node);
  if (isScalar(node)) {
    const text = String(node.value);
    if (node.type !== "PLAIN") return text;
    return WORDS.has(text) ? (WORDS.get(text) ?? null) : jsonNumber(text);
  }
  throw new FormatError("unexpected JSON structure");
}

function readObject(node: YAMLMap): SopsMap {
  return sopsMap(
    node.items.map((pair: Pair) => {
      const key: unknown = isScalar(pair.key) ? pair.key.value : undefined;
      if (typeof key !== "string") throw new FormatError("a JSON object key is not a string");
      return { key, value: readValue(pair.value) };
    }),
  );
}

function readArray(node: YAMLSeq): SopsValue {
  return sopsList(node.items.map((item) => readValue(item)));
}

function checkSyntax(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err: unknown) {
    // V8's message can quote the input; keep only where it failed.
    const where = err instanceof Error ? /position [0-9]+/.exec(err.message) : null;
    throw new FormatError(`invalid JSON${where === null ? "" : ` at ${where[0]}`}`);
  }
}

/** The one document of a JSON file; its top level must be an object, as sops requires. */
export function readJson(text: string): SopsMap {
  const parsed = checkSyntax(text);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new FormatError("sops only supports JSON files with a top-level object");
  }
  const doc = parseDocument(text, { schema: "failsafe", uniqueKeys: false, prettyErrors: false });
  const error = doc.errors[0];
  if (error !== undefined) throw new FormatError(`JSON could not be read (${error.code})`);
  if (!isMap(doc.contents))
    throw new FormatError("sops only supports JSON files with a top-level object");
  return readObject(doc.contents);
}
