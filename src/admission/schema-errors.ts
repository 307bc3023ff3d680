/**
 * ajv errors as sentences that name the field, the value and what was expected:
 * `spec.breakGlass.maxDuration "4x" must be a duration like 30m or 4h`.
 * Compile with { verbose: true } so each error carries its data and parent schema.
 */
import type { ErrorObject } from "ajv";

/** "/spec/match/resources/0/kinds" -> "spec.match.resources[0].kinds" */
export function fieldPath(instancePath: string, prefix = ""): string {
  let out = prefix;
  for (const raw of instancePath.split("/").slice(1)) {
    const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (/^[0-9]+$/.test(token)) out += `[${token}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(token)) out += out === "" ? token : `.${token}`;
    else out += `[${JSON.stringify(token)}]`;
  }
  return out;
}

/** field + "." + name, or name alone at the root. */
function child(field: string, name: string): string {
  return fieldPath(`/${name.replaceAll("~", "~0").replaceAll("/", "~1")}`, field);
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describeOf(error: ErrorObject): string | undefined {
  const parent: unknown = error.parentSchema;
  if (typeof parent !== "object" || parent === null) return undefined;
  const description = (parent as { description?: unknown }).description;
  return typeof description === "string" ? description : undefined;
}

function sentence(error: ErrorObject, path: string): string {
  const p = error.params as Record<string, unknown>;
  const field = path === "" ? "the document" : path;
  switch (error.keyword) {
    case "required":
      return `${child(path, String(p["missingProperty"]))} is required`;
    case "additionalProperties":
      return `${child(path, String(p["additionalProperty"]))} is not a known field`;
    case "pattern":
      return `${field} ${shown(error.data)} must be ${describeOf(error) ?? `like ${String(p["pattern"])}`}`;
    case "enum":
      return `${field} ${shown(error.data)} must be one of ${(p["allowedValues"] as unknown[]).map(String).join(", ")}`;
    case "const":
      return `${field} ${shown(error.data)} must be ${shown(p["allowedValue"])}`;
    case "type":
      return `${field} must be ${String(p["type"])}, not ${shown(error.data)}`;
    default:
      return `${field} ${error.message ?? "is invalid"}`;
  }
}

/** One sentence per error, deduplicated, in ajv's order. prefix names the document's root. */
export function describeErrors(errors: readonly ErrorObject[], prefix = ""): string[] {
  const out = errors.map((e) => sentence(e, fieldPath(e.instancePath, prefix)));
  return [...new Set(out)];
}
