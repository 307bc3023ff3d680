/**
 * The SealedSecrets of a Git checkout, for `keys usage` and `keys reencrypt`: files and
 * folders (recursively; *.yaml, *.yml, *.json), every document of each file, and where each
 * encryptedData value sits in the text, so a value can be replaced in place and the rest of
 * the file (other documents, comments, quoting, layout) stays byte for byte as it was.
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import type { Document } from "yaml";
import { readSealedSecret, type SealedSecret } from "../crypto/sealing/sealed-secret.js";
import { isRecord } from "../crypto/sealing/shapes.js";
import { ErrorCodes, GuardError, errorMessage } from "../errors.js";

const MANIFEST_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

/** Where one encryptedData value is written: [start, end) of its scalar in the file's text. */
export interface ValueSpan {
  readonly start: number;
  readonly end: number;
  /** How to write a replacement so it parses the same: plain, 'single' or "double" quoted. */
  readonly quote: "plain" | "single" | "double";
  /** Text kept after the value (a block scalar's line break). */
  readonly trailer: string;
}

export interface SealedDocument {
  readonly file: string;
  /** The document's place in the file, from 1. */
  readonly document: number;
  /** "file:document", how messages name it. */
  readonly where: string;
  /** The SealedSecret, or why a document of kind SealedSecret cannot be read as one. */
  readonly sealed: SealedSecret | GuardError;
  /** Each value's place in the text; a value missing here cannot be replaced in place. */
  readonly spans: ReadonlyMap<string, readonly ValueSpan[]>;
}

export interface ManifestFile {
  readonly path: string;
  readonly text: string;
  readonly documents: readonly SealedDocument[];
}

function unreadable(path: string, reason: string, cause?: unknown): GuardError {
  return new GuardError(ErrorCodes.UNSEAL_INPUT_INVALID, `${path}: ${reason}`, { cause });
}

/** A file that was read but is not YAML or JSON: skipped when it was found in a folder. */
function notParsed(where: string, reason: string): GuardError {
  return new GuardError(ErrorCodes.UNSEAL_INPUT_INVALID, `${where}: ${reason}`, {
    details: { notParsed: true },
  });
}

async function walk(path: string, out: string[]): Promise<void> {
  const entries = await readdir(path, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const child = join(path, entry.name);
    // .git and friends hold no manifests of the repository.
    if (entry.isDirectory() && !entry.name.startsWith(".")) await walk(child, out);
    else if (!entry.isDirectory() && MANIFEST_EXTENSIONS.has(extname(entry.name))) out.push(child);
  }
}

/**
 * The manifest files under the given paths, each once; a named file is taken whatever its
 * extension. `named` tells the files given by name from those found in a folder.
 */
export async function manifestPaths(paths: readonly string[]): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  for (const path of paths) {
    const found: string[] = [];
    try {
      if ((await stat(path)).isDirectory()) await walk(path, found);
      else out.set(path, true);
    } catch (err: unknown) {
      const code = (err as { code?: string }).code;
      throw unreadable(path, code === "ENOENT" ? "no such file or directory" : String(err), err);
    }
    for (const file of found) if (!out.has(file)) out.set(file, false);
  }
  return out;
}

interface Segment {
  readonly offset: number;
  readonly text: string;
}

/** A stream of JSON values one after another (kubectl's style) cut into one text per value. */
function jsonSegments(text: string): Segment[] | undefined {
  const out: Segment[] = [];
  let offset = 0;
  while (text.slice(offset).trim() !== "") {
    const rest = text.slice(offset);
    try {
      JSON.parse(rest);
      return [...out, { offset, text: rest }];
    } catch (err: unknown) {
      const end = /after JSON at position (\d+)/.exec(String(err))?.[1];
      if (end === undefined) return undefined;
      out.push({ offset, text: rest.slice(0, Number(end)) });
      offset += Number(end);
    }
  }
  return out;
}

function spanOf(node: unknown, text: string, offset: number): ValueSpan | undefined {
  if (!isRecord(node) || !Array.isArray(node.range) || typeof node.type !== "string") {
    return undefined;
  }
  const [start, end] = node.range as [number, number];
  const trailer = node.type.startsWith("BLOCK")
    ? (/\s*$/.exec(text.slice(start, end))?.[0] ?? "")
    : "";
  const quote =
    node.type === "PLAIN" ? "plain" : node.type === "QUOTE_SINGLE" ? "single" : "double";
  return { start: start + offset, end: end + offset, quote, trailer };
}

/** Where each encryptedData value of a parsed document is written. */
function valueSpans(doc: Document, text: string, offset: number): Map<string, ValueSpan[]> {
  const spans = new Map<string, ValueSpan[]>();
  const map = doc.getIn(["spec", "encryptedData"], true) as { items?: unknown } | undefined;
  const items: unknown[] = Array.isArray(map?.items) ? (map.items as unknown[]) : [];
  for (const pair of items) {
    if (!isRecord(pair) || !isRecord(pair.key)) continue;
    const key = String(pair.key.value);
    const span = spanOf(pair.value, text, offset);
    if (span !== undefined) spans.set(key, [...(spans.get(key) ?? []), span]);
  }
  return spans;
}

function readSealed(value: unknown, where: string): SealedSecret | GuardError {
  try {
    return readSealedSecret(value, where);
  } catch (err: unknown) {
    if (!(err instanceof GuardError)) throw err;
    return err;
  }
}

const isSealedKind = (value: unknown): boolean => isRecord(value) && value.kind === "SealedSecret";

async function parseSegment(path: string, segment: Segment): Promise<Document[]> {
  const { parseAllDocuments } = await import("yaml");
  const docs = parseAllDocuments(segment.text, {
    version: "1.1",
    uniqueKeys: false,
    logLevel: "error",
  });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const [index, doc] of list.entries()) {
    const [error] = doc.errors;
    if (error !== undefined) {
      throw notParsed(`${path}:${index + 1}`, `not valid YAML or JSON: ${error.message}`);
    }
  }
  return list;
}

function toJS(doc: Document, where: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err: unknown) {
    throw notParsed(where, `not valid YAML: ${errorMessage(err)}`);
  }
}

/** The SealedSecret documents of a file's text; other documents are skipped. */
export async function sealedDocuments(path: string, text: string): Promise<SealedDocument[]> {
  // A file that never says SealedSecret holds none: most of a repository is not parsed.
  if (!text.includes("SealedSecret")) return [];
  const segments = /^\s*[{[]/.test(text) ? jsonSegments(text) : undefined;
  const out: SealedDocument[] = [];
  let number = 0;
  for (const segment of segments ?? [{ offset: 0, text }]) {
    for (const doc of await parseSegment(path, segment)) {
      const document = ++number;
      const where = `${path}:${document}`;
      const value = toJS(doc, where);
      if (!isSealedKind(value)) continue;
      const spans = valueSpans(doc, segment.text, segment.offset);
      out.push({ file: path, document, where, sealed: readSealed(value, where), spans });
    }
  }
  return out;
}

async function readManifest(path: string): Promise<ManifestFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err: unknown) {
    throw unreadable(path, String(err), err);
  }
  return { path, text, documents: await sealedDocuments(path, text) };
}

export interface Manifests {
  /** Files that hold at least one SealedSecret. */
  readonly files: readonly ManifestFile[];
  /** How many manifest files were looked at. */
  readonly scanned: number;
  /** Files found in a folder that do not parse (Helm templates, say): skipped, with why. */
  readonly skipped: readonly GuardError[];
}

/**
 * Reads and parses every manifest file under the paths. A file that cannot be read, or a
 * file named on the command line that does not parse, is an error that names it.
 */
export async function readManifests(paths: readonly string[]): Promise<Manifests> {
  const files: ManifestFile[] = [];
  const skipped: GuardError[] = [];
  const found = await manifestPaths(paths);
  for (const [path, named] of found) {
    try {
      const file = await readManifest(path);
      if (file.documents.length > 0) files.push(file);
    } catch (err: unknown) {
      if (named || !(err instanceof GuardError) || err.details.notParsed !== true) throw err;
      skipped.push(err);
    }
  }
  return { files, scanned: found.size, skipped };
}

/**
 * Where every SealedSecret read lives: a value that does not open is checked against these
 * too ("copied from SealedSecret shop/db?"). An object's own place is in the list as well;
 * the diagnosis names its own place first, so that does no harm.
 */
export function placesOf(files: readonly ManifestFile[]): { namespace: string; name: string }[] {
  return files
    .flatMap((f) => f.documents)
    .flatMap(({ sealed }) =>
      sealed instanceof GuardError
        ? []
        : [{ namespace: sealed.metadata.namespace ?? "", name: sealed.metadata.name }],
    );
}

function written(value: string, span: ValueSpan): string {
  if (span.quote === "plain") return value;
  if (span.quote === "single") return `'${value}'`;
  return `${JSON.stringify(value)}${span.trailer}`;
}

/** The text with the given values (base64, so no quoting issues) written over the old ones. */
export function replaceValues(
  text: string,
  edits: readonly { span: ValueSpan; value: string }[],
): string {
  let out = text;
  // From the end: earlier offsets stay valid.
  for (const { span, value } of [...edits].sort((a, b) => b.span.start - a.span.start)) {
    out = out.slice(0, span.start) + written(value, span) + out.slice(span.end);
  }
  return out;
}

/** Replaces a file atomically (temporary file in the same folder, then rename), keeping its mode. */
export async function replaceFile(path: string, content: string): Promise<void> {
  const target = await realpath(path);
  const { mode } = await stat(target);
  const temporary = join(
    dirname(target),
    `.${basename(target)}.${randomBytes(4).toString("hex")}.tmp`,
  );
  try {
    await writeFile(temporary, content, { mode: mode & 0o777, flag: "wx" });
    await rename(temporary, target);
  } catch (err: unknown) {
    await rm(temporary, { force: true });
    throw err;
  }
}
