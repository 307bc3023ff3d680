/**
 * Writes decrypted documents as JSON in document order (JSON.stringify would reorder keys
 * such as "2" and cannot print bigint), numbers exact.
 */
import { ErrorCodes, GuardError } from "../../errors.js";
import { isComment, isList, isMap, isTime, type SopsValue } from "./tree.js";

function jsonNumber(value: number): string {
  if (!Number.isFinite(value)) {
    throw new GuardError(
      ErrorCodes.SOPS_OUTPUT_UNSUPPORTED,
      "JSON cannot hold NaN or infinite numbers",
    );
  }
  return String(value);
}

function scalar(value: Exclude<SopsValue, { kind: "map" } | { kind: "list" }>): string {
  if (value === null) return "null";
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString("base64"));
  if (isTime(value)) return JSON.stringify(value.text);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return jsonNumber(value);
  return JSON.stringify(value);
}

function write(value: SopsValue, indent: string): string {
  const inner = `${indent}  `;
  if (isMap(value)) {
    const parts = value.entries.flatMap((e) =>
      isComment(e) ? [] : [`${inner}${JSON.stringify(e.key)}: ${write(e.value, inner)}`],
    );
    return parts.length === 0 ? "{}" : `{\n${parts.join(",\n")}\n${indent}}`;
  }
  if (isList(value)) {
    const parts = value.items.flatMap((item) =>
      isComment(item) ? [] : [`${inner}${write(item, inner)}`],
    );
    return parts.length === 0 ? "[]" : `[\n${parts.join(",\n")}\n${indent}]`;
  }
  return scalar(value);
}

/** One JSON text with a final newline, indented by two spaces. */
export function writeJson(value: SopsValue): string {
  return `${write(value, "")}\n`;
}

/** Several documents as one JSON array. */
export function writeJsonArray(values: readonly SopsValue[]): string {
  if (values.length === 0) return "[]\n";
  return `[\n${values.map((v) => `  ${write(v, "  ")}`).join(",\n")}\n]\n`;
}
