/**
 * Kubernetes documents in and out: YAML (one or many documents) or JSON, as kubectl and
 * kubeseal read them. JSON input takes a fast path without loading the YAML library, which
 * keeps `seal` quick to start; YAML is read as YAML 1.1, as Kubernetes' own decoder does
 * (so `yes` is true, `0123` is 83, exactly what kubectl would have sent).
 */
import { ErrorCodes, GuardError, errorMessage, type ErrorCode } from "../errors.js";

export const OUTPUT_FORMATS = ["json", "yaml"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

function looksLikeJson(text: string): boolean {
  return /^\s*[{[]/.test(text);
}

/**
 * One JSON value, or several written one after another (kubectl and kubeseal write such
 * streams): JSON.parse itself says where the first value ends.
 */
function jsonDocuments(text: string): unknown[] | undefined {
  const out: unknown[] = [];
  let rest = text;
  while (rest.trim() !== "") {
    try {
      out.push(JSON.parse(rest) as unknown);
      return out;
    } catch (err: unknown) {
      const end = /after JSON at position (\d+)/.exec(String(err))?.[1];
      // Not JSON after all, or broken JSON: the YAML parser decides and explains.
      if (end === undefined) return undefined;
      out.push(JSON.parse(rest.slice(0, Number(end))) as unknown);
      rest = rest.slice(Number(end));
    }
  }
  return out;
}

/** Every non-empty document of a YAML or JSON text; `source` names the input in errors. */
export async function parseDocuments(
  text: string,
  source: string,
  code: ErrorCode = ErrorCodes.SEAL_INPUT_INVALID,
): Promise<unknown[]> {
  const json = looksLikeJson(text) ? jsonDocuments(text) : undefined;
  if (json !== undefined) return json;
  const { parseAllDocuments } = await import("yaml");
  const documents = parseAllDocuments(text, { version: "1.1", uniqueKeys: false });
  const list = Array.isArray(documents) ? documents : [documents];
  const out: unknown[] = [];
  for (const [index, doc] of list.entries()) {
    const [error] = doc.errors;
    if (error !== undefined) {
      const where = list.length > 1 ? `${source}, document ${index + 1}` : source;
      throw new GuardError(code, `${where} is not valid YAML or JSON: ${error.message}`);
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

/** Objects in kubeseal's output style: pretty JSON per document, or YAML documents after ---. */
export async function formatDocuments(
  documents: readonly unknown[],
  format: OutputFormat,
): Promise<string> {
  if (format === "json") return documents.map((d) => `${JSON.stringify(d, null, 2)}\n`).join("");
  const { stringify } = await import("yaml");
  // lineWidth 0: base64 values stay on one line; YAML 1.1 quotes "yes", "on" and friends.
  return documents.map((d) => `---\n${stringify(d, { lineWidth: 0, version: "1.1" })}`).join("");
}

export function isOutputFormat(value: string): value is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(value);
}

/** Wraps a parse failure of a file a flag named. */
export function describeParseFailure(err: unknown, flag: string): string {
  return `${flag}: ${errorMessage(err)}`;
}
