import { LineCounter, parseAllDocuments } from "yaml";
import { KUBE_YAML } from "./kube-yaml.js";
import { ErrorCodes, GuardError } from "../../errors.js";
import { isKubeObject, type KubeObject } from "../../kube/objects.js";

/** One object rendered from Git, with where it came from (for messages people act on). */
export interface RenderedObject {
  readonly object: KubeObject;
  /** Path relative to the repository root, or "<dir> (kustomize build)". */
  readonly source: string;
  /** 1-based line of the document in source; 0 when unknown (kustomize output). */
  readonly line: number;
}

/** "file:line", or just the source when the line is unknown (kustomize output). */
export function locate(at: { readonly source: string; readonly line: number }): string {
  return at.line > 0 ? `${at.source}:${at.line}` : at.source;
}

// A YAML alias bomb expands a few lines into gigabytes; no real manifest needs many aliases.
const MAX_ALIASES = 100;

function yamlError(source: string, line: number, col: number, message: string): GuardError {
  return new GuardError(ErrorCodes.RENDER_YAML_INVALID, `${source}:${line}:${col}: ${message}`, {
    details: { file: source, line, column: col },
  });
}

function objectError(source: string, line: number, message: string): GuardError {
  return new GuardError(ErrorCodes.RENDER_OBJECT_INVALID, `${source}:${line}: ${message}`, {
    details: { file: source, line },
  });
}

/** Checks one document is an object the API server can take by name. */
function toObject(value: unknown, source: string, line: number): KubeObject {
  if (!isKubeObject(value)) {
    throw objectError(
      source,
      line,
      "not a Kubernetes object (needs apiVersion, kind and metadata)",
    );
  }
  const name = value.metadata.name;
  if (typeof name !== "string" || name === "") {
    throw objectError(
      source,
      line,
      `${value.kind} has no metadata.name (generateName cannot be applied)`,
    );
  }
  return value;
}

/** `kind: List` (kubectl's and kustomize's wrapper) holds its objects in items. */
function listItems(value: unknown, source: string, line: number): RenderedObject[] {
  const list =
    typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  const items = list["items"];
  if (list["kind"] === "List" && Array.isArray(items)) {
    return items.map((item: unknown) => ({ object: toObject(item, source, line), source, line }));
  }
  return [{ object: toObject(value, source, line), source, line }];
}

function toValue(doc: ReturnType<typeof parseAllDocuments>[number], at: () => string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err: unknown) {
    // yaml throws on an alias bomb; report it like any other YAML error.
    throw new GuardError(ErrorCodes.RENDER_YAML_INVALID, `${at()}: ${(err as Error).message}`);
  }
}

/**
 * Parses a multi-document YAML (or JSON) text into objects. A syntax error names the file, line
 * and column; an empty document (a trailing `---`, a comment) is skipped.
 */
export function parseManifests(text: string, source: string): RenderedObject[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, {
    ...KUBE_YAML,
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const out: RenderedObject[] = [];
  for (const doc of docs) {
    const firstError = doc.errors[0];
    if (firstError !== undefined) {
      const at = lineCounter.linePos(firstError.pos[0]);
      throw yamlError(source, at.line, at.col, firstError.message.split("\n")[0] ?? "invalid YAML");
    }
    const line = lineCounter.linePos(doc.contents?.range[0] ?? doc.range[0]).line;
    const value = toValue(doc, () => `${source}:${line}`);
    if (value === null || value === undefined) continue;
    out.push(...listItems(value, source, line));
  }
  return out;
}

/** True for a document SOPS encrypted: it carries SOPS's metadata block at the top level. */
export function isSopsDocument(obj: KubeObject): boolean {
  const sops = obj["sops"];
  return typeof sops === "object" && sops !== null && ("mac" in sops || "lastmodified" in sops);
}
