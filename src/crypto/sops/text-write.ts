/** Writes decrypted dotenv, INI and binary files as sops prints them. */
import { ErrorCodes, GuardError } from "../../errors.js";
import { formatGoFloatG } from "./go-values.js";
import { isComment, isList, isMap, isTime, type SopsDocument, type SopsValue } from "./tree.js";

function unsupported(message: string): GuardError {
  return new GuardError(ErrorCodes.SOPS_OUTPUT_UNSUPPORTED, message);
}

/** sops stores.ValToString: how a typed leaf is printed in a flat format. */
function valueText(value: SopsValue, key: string): string {
  if (isMap(value) || isList(value))
    throw unsupported(`cannot write the nested value of ${key} in this format`);
  if (value === null) return "";
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  if (isTime(value)) return value.text.replace(/\.[0-9]+/, "");
  if (typeof value === "number") {
    const text = formatGoFloatG(value);
    return /[.EIN]/.test(text) ? text : `${text}.0`;
  }
  return String(value);
}

export function writeDotenv(document: SopsDocument): string {
  return document.entries
    .map((entry) => {
      if (isComment(entry)) return `#${entry.text}\n`;
      const text = valueText(entry.value, entry.key);
      return `${entry.key}=${typeof entry.value === "string" ? text.replaceAll("\n", "\\n") : text}\n`;
    })
    .join("");
}

function iniSection(name: string, value: SopsValue): string {
  if (!isMap(value)) throw unsupported(`INI section ${name} is not a mapping`);
  const lines = value.entries.map((entry) =>
    isComment(entry) ? `; ${entry.text}` : `${entry.key} = ${valueText(entry.value, entry.key)}`,
  );
  return [`[${name}]`, ...lines, ""].join("\n");
}

export function writeIni(document: SopsDocument): string {
  const sections = document.entries.flatMap((entry) => {
    if (isComment(entry)) return [];
    const empty = isMap(entry.value) && entry.value.entries.length === 0;
    return entry.key === "DEFAULT" && empty ? [] : [iniSection(entry.key, entry.value)];
  });
  return sections.join("\n");
}

/** The one `data` value of a binary file, as the bytes sops encrypted. */
export function writeBinary(document: SopsDocument): Uint8Array {
  for (const entry of document.entries) {
    if (isComment(entry) || entry.key !== "data") continue;
    if (entry.value instanceof Uint8Array) return entry.value;
    if (typeof entry.value === "string") return Buffer.from(entry.value, "utf8");
    throw unsupported("the data value of a binary file is not a string");
  }
  throw unsupported("a binary file has no data value");
}
