/**
 * Writes decrypted documents as YAML with their comments. Strings that YAML 1.1 readers
 * (kubectl's go-yaml, for one) would take for another type are quoted ("yes", "0x1F",
 * "2024-01-01"), integers keep every digit, and whole floats keep a ".0" so they stay floats.
 */
import { Document, Pair, Scalar, YAMLMap, YAMLSeq } from "yaml";
import {
  isComment,
  isList,
  isMap,
  isTime,
  type SopsComment,
  type SopsDocument,
  type SopsValue,
} from "./tree.js";

type Node = Scalar | YAMLMap | YAMLSeq;

function scalarNode(value: Exclude<SopsValue, { kind: "map" } | { kind: "list" }>): Scalar {
  const node = new Scalar(isTime(value) ? value.text : value);
  if (typeof value === "number" && Number.isInteger(value)) node.minFractionDigits = 1;
  return node;
}

function joined(comments: readonly SopsComment[]): string | undefined {
  return comments.length === 0 ? undefined : comments.map((c) => c.text).join("\n");
}

function withComments(node: Node, before: readonly SopsComment[]): Node {
  const text = joined(before);
  if (text !== undefined) node.commentBefore = text;
  return node;
}

function mapNode(value: Extract<SopsValue, { kind: "map" }>): YAMLMap {
  const map = new YAMLMap();
  let pending: SopsComment[] = [];
  for (const entry of value.entries) {
    if (isComment(entry)) {
      pending.push(entry);
      continue;
    }
    map.items.push(new Pair(withComments(new Scalar(entry.key), pending), node(entry.value)));
    pending = [];
  }
  const foot = joined(pending);
  if (foot !== undefined) map.comment = foot;
  return map;
}

function listNode(value: Extract<SopsValue, { kind: "list" }>): YAMLSeq {
  const seq = new YAMLSeq();
  let pending: SopsComment[] = [];
  for (const item of value.items) {
    if (isComment(item)) {
      pending.push(item);
      continue;
    }
    seq.items.push(withComments(node(item), pending));
    pending = [];
  }
  const foot = joined(pending);
  if (foot !== undefined) seq.comment = foot;
  return seq;
}

function node(value: SopsValue): Node {
  if (isMap(value)) return mapNode(value);
  if (isList(value)) return listNode(value);
  return scalarNode(value);
}

/** The documents as a YAML stream, "---" between documents. */
export function writeYaml(documents: readonly SopsDocument[]): string {
  return documents
    .map((document) => {
      const doc = new Document(null, { version: "1.1" });
      doc.contents = mapNode(document);
      return doc.toString({ lineWidth: 0 });
    })
    .join("---\n");
}
