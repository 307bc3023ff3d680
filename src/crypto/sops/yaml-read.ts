/**
 * Reads YAML (one or more documents) into SOPS trees the way sops's YAML store does: key order
 * and comments kept, every document its own tree, scalars typed as go-yaml v3 types them.
 * The `yaml` package parses with the failsafe schema so every scalar arrives as its source
 * text, and yaml-scalar.ts does the typing.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
  type Node as YamlNode,
  type Pair,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import { resolveYamlPlain } from "./yaml-scalar.js";
import {
  comment,
  sopsList,
  sopsMap,
  type SopsComment,
  type SopsDocument,
  type SopsEntry,
  type SopsListItem,
  type SopsScalar,
  type SopsValue,
} from "./tree.js";
import { FormatError } from "./format-error.js";

/** Aliases can expand exponentially ("billion laughs"); no real sops file comes near this. */
const MAX_NODES = 1_000_000;

interface Reader {
  readonly doc: Document.Parsed;
  nodes: number;
}

/** Each comment line of a yaml-package comment block, as sops keeps them: text after '#'. */
function commentLines(text: string | null | undefined): SopsComment[] {
  if (text === undefined || text === null) return [];
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => comment(line));
}

function scalarValue(node: Scalar): SopsScalar {
  const value: unknown = node.value;
  if (value instanceof Uint8Array) return value;
  const text = typeof value === "string" ? value : String(value);
  if (node.type !== "PLAIN") return text;
  return resolveYamlPlain(text, node.tag);
}

function count(reader: Reader): void {
  reader.nodes += 1;
  if (reader.nodes > MAX_NODES) throw new FormatError("too many nodes (alias expansion)");
}

function readNode(node: unknown, reader: Reader): SopsValue {
  count(reader);
  if (isAlias(node)) return readNode(node.resolve(reader.doc), reader);
  if (isMap(node)) return readMap(node, reader, true);
  if (isSeq(node)) return readList(node, reader);
  if (isScalar(node)) return scalarValue(node);
  if (node === null || node === undefined) return null;
  throw new FormatError("unsupported YAML node");
}

function readKey(node: unknown, reader: Reader): string {
  const key = readNode(node, reader);
  if (typeof key === "string") return key;
  // sops: "Tree contains a non-string key ... Only string keys are supported".
  throw new FormatError("a mapping key is not a string (quote numeric, boolean or null keys)");
}

function pairEntries(pair: Pair, reader: Reader): SopsEntry[] {
  const keyNode = pair.key as YamlNode | null;
  const valueNode = pair.value as YamlNode | null;
  const entries: SopsEntry[] = [
    ...commentLines(keyNode?.commentBefore),
    ...commentLines(keyNode?.comment),
  ];
  // go-yaml hands a scalar value's own comments to the enclosing mapping, before the pair.
  const scalarValueComments = valueNode === null || isScalar(valueNode) || isAlias(valueNode);
  if (scalarValueComments) {
    entries.push(...commentLines(valueNode?.commentBefore), ...commentLines(valueNode?.comment));
  }
  entries.push({ key: readKey(keyNode, reader), value: readNode(valueNode, reader) });
  return entries;
}

function readMap(node: YAMLMap, reader: Reader, ownComments: boolean): SopsDocument {
  const entries: SopsEntry[] = ownComments ? commentLines(node.commentBefore) : [];
  for (const pair of node.items) entries.push(...pairEntries(pair, reader));
  if (ownComments) entries.push(...commentLines(node.comment));
  return sopsMap(entries);
}

function readList(node: YAMLSeq, reader: Reader): SopsValue {
  const items: SopsListItem[] = commentLines(node.commentBefore);
  for (const item of node.items) {
    const itemNode = item as YamlNode | null;
    items.push(...commentLines(itemNode?.commentBefore), ...commentLines(itemNode?.comment));
    items.push(readNode(item, reader));
  }
  items.push(...commentLines(node.comment));
  return sopsList(items);
}

function readDocument(doc: Document.Parsed, reader: Reader): SopsDocument {
  const contents = doc.contents;
  const head = commentLines(doc.commentBefore);
  const foot = commentLines(doc.comment);
  if (contents === null || (isScalar(contents) && scalarValue(contents) === null)) {
    return sopsMap([...head, ...foot]);
  }
  if (isMap(contents)) {
    const body = readMap(contents, reader, true);
    return sopsMap([...head, ...body.entries, ...foot]);
  }
  if (isSeq(contents)) throw new FormatError("YAML documents that are sequences are not supported");
  throw new FormatError("YAML documents that are single values are not supported");
}

function syntaxError(doc: Document.Parsed, lines: LineCounter): FormatError | undefined {
  const error = doc.errors[0];
  if (error === undefined) return undefined;
  const { line, col } = lines.linePos(error.pos[0]);
  // The code and position only: the yaml package's message may quote the file's text.
  return new FormatError(`YAML syntax error ${error.code} at line ${line}, column ${col}`);
}

/** Every document of a YAML stream, in order. Throws FormatError. */
export function readYaml(text: string): SopsDocument[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    schema: "failsafe",
    prettyErrors: false,
    uniqueKeys: true,
    lineCounter: lines,
  });
  const parsed = Array.isArray(docs) ? docs : [];
  return parsed.map((doc) => {
    const error = syntaxError(doc, lines);
    if (error !== undefined) throw error;
    return readDocument(doc, { doc, nodes: 0 });
  });
}
