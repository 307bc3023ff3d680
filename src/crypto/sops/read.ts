/** Reads a file of any sops format into documents and its raw metadata. */
import { FormatError } from "./format-error.js";
import type { SopsFormat } from "./formats.js";
import { readDotenv } from "./dotenv-read.js";
import { readIni } from "./ini-read.js";
import { readJson } from "./json-read.js";
import { extractMetadata, type MetadataLayout } from "./metadata-extract.js";
import type { SopsDocument } from "./tree.js";
import { readYaml } from "./yaml-read.js";

export interface ParsedFile {
  readonly format: SopsFormat;
  /** The data, without the metadata. */
  readonly documents: readonly SopsDocument[];
  readonly rawMetadata: Readonly<Record<string, unknown>>;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function asText(content: Uint8Array | string): string {
  if (typeof content === "string") return content;
  try {
    return UTF8.decode(content);
  } catch {
    throw new FormatError("the file is not UTF-8 text");
  }
}

const LAYOUT: Readonly<Record<SopsFormat, MetadataLayout>> = {
  yaml: "nested",
  json: "nested",
  binary: "nested",
  dotenv: "flat-prefixed",
  ini: "flat-section",
};

function read(text: string, format: SopsFormat): SopsDocument[] {
  switch (format) {
    case "yaml":
      return readYaml(text);
    case "json":
    case "binary":
      // The binary store is a JSON envelope: {"data": "ENC[…]", "sops": {…}}.
      return [readJson(text)];
    case "dotenv":
      return [readDotenv(text)];
    case "ini":
      return [readIni(text)];
  }
}

/** Throws FormatError for syntax, structure or missing metadata. */
export function readDocuments(content: Uint8Array | string, format: SopsFormat): ParsedFile {
  const extracted = extractMetadata(read(asText(content), format), LAYOUT[format]);
  return { format, documents: extracted.documents, rawMetadata: extracted.metadata };
}
