/**
 * Reads an INI file as sops's INI store does, through go-ini (gopkg.in/ini.v1) with
 * AllowNonUniqueSections: a DEFAULT section first, then each [section] in order; `key = value`
 * or `key: value`; `;`/`#` comment lines attached to the next section or key; inline comments
 * cut at the first `;` or `#`; surrounding quotes removed; `"""` and backtick values may span
 * lines; a trailing backslash continues a value. The npm `ini` package differs on several of
 * these (nested [a.b] sections, arrays, no multi-line values), and every value is in the MAC.
 */
import { FormatError } from "./format-error.js";
import { comment, sopsMap, type SopsEntry, type SopsMap } from "./tree.js";

interface Section {
  readonly name: string;
  comment: string;
  readonly keys: Map<string, { value: string; comment: string }>;
}

class Lines {
  private readonly lines: string[];
  private next = 0;

  constructor(text: string) {
    this.lines = text.replace(/^\uFEFF/, "").match(/[^\n]*\n|[^\n]+$/g) ?? [];
  }

  /** The next line with its "\n", or undefined at the end. */
  read(): string | undefined {
    return this.lines[this.next++];
  }
}

function indexOfAny(text: string, chars: string): number {
  for (let i = 0; i < text.length; i++) if (chars.includes(text.charAt(i))) return i;
  return -1;
}

function readKeyName(line: string): { name: string; rest: string } {
  const quote = line.startsWith('"')
    ? line.length > 6 && line.startsWith('"""')
      ? '"""'
      : '"'
    : line.startsWith("`")
      ? "`"
      : "";
  if (quote !== "") {
    const close = line.indexOf(quote, quote.length);
    if (close === -1) throw new FormatError("an INI key has no closing quote");
    const delimiter = indexOfAny(line.slice(close + quote.length), "=:");
    if (delimiter < 0) throw new FormatError("an INI line has no key-value delimiter");
    return {
      name: line.slice(quote.length, close).trim(),
      rest: line.slice(close + quote.length + delimiter + 1),
    };
  }
  const delimiter = indexOfAny(line, "=:");
  if (delimiter < 0) throw new FormatError("an INI line has no key-value delimiter");
  if (delimiter === 0) throw new FormatError("an INI line has an empty key name");
  return { name: line.slice(0, delimiter).trim(), rest: line.slice(delimiter + 1) };
}

function readMultiline(
  first: string,
  quote: string,
  lines: Lines,
): { value: string; comment: string } {
  let value = first;
  for (let next = lines.read(); next !== undefined; next = lines.read()) {
    const close = next.lastIndexOf(quote);
    const continued =
      close > -1 &&
      next
        .slice(close + quote.length)
        .trim()
        .endsWith("\\");
    if (close === -1 || continued) {
      value += next;
      continue;
    }
    const after = next.slice(close);
    const cut = indexOfAny(after, "#;");
    return {
      value: value + next.slice(0, close),
      comment: cut === -1 ? "" : after.slice(cut).trim(),
    };
  }
  throw new FormatError("an INI value has no closing quote");
}

function readContinuation(start: string, lines: Lines): string {
  let value = start;
  for (
    let next = lines.read()?.trim();
    next !== undefined && next !== "";
    next = lines.read()?.trim()
  ) {
    value += next;
    if (!value.endsWith("\\")) break;
    value = value.slice(0, -1);
  }
  return value;
}

function surrounded(text: string, quote: string): boolean {
  return (
    text.length >= 2 &&
    text.startsWith(quote) &&
    text.endsWith(quote) &&
    text.indexOf(quote, 1) === text.length - 1
  );
}

function valueQuote(line: string): string {
  if (line.length > 3 && line.startsWith('"""')) return '"""';
  return line.startsWith("`") ? "`" : "";
}

function readValue(raw: string, lines: Lines): { value: string; comment: string } {
  const line = raw.trimStart();
  const quote = valueQuote(line);
  if (quote !== "") {
    const rest = line.slice(quote.length);
    const close = rest.lastIndexOf(quote);
    return close === -1
      ? readMultiline(rest, quote, lines)
      : { value: rest.slice(0, close), comment: "" };
  }
  let value = line.trim();
  if (value.endsWith("\\"))
    return { value: readContinuation(value.slice(0, -1), lines), comment: "" };
  const cut = indexOfAny(value, "#;");
  const inline = cut === -1 ? "" : value.slice(cut);
  if (cut !== -1) value = value.slice(0, cut).trim();
  if (surrounded(value, "'") || surrounded(value, '"')) value = value.slice(1, -1);
  return { value, comment: inline };
}

function startSection(line: string, pending: string, sections: Section[]): void {
  const close = line.lastIndexOf("]");
  if (close === -1) throw new FormatError("an INI section header is not closed");
  const name = line.slice(1, close);
  const after = line.slice(close + 1);
  const cut = indexOfAny(after, "#;");
  const text = (pending + (cut === -1 ? "" : after.slice(cut))).trim();
  const existing = name === "DEFAULT" ? sections[0] : undefined;
  if (existing !== undefined) existing.comment = text;
  else sections.push({ name, comment: text, keys: new Map() });
}

/** sops strips every leading marker and space from an INI comment. */
function stripMarker(text: string): string {
  return text.replace(text.startsWith(";") ? /^[; ]+/ : /^[# ]+/, "");
}

function toTree(sections: readonly Section[]): SopsMap {
  return sopsMap(
    sections.map((section) => {
      const entries: SopsEntry[] =
        section.comment === "" ? [] : [comment(stripMarker(section.comment))];
      for (const [key, { value, comment: text }] of section.keys) {
        entries.push({ key, value });
        if (text !== "") entries.push(comment(stripMarker(text)));
      }
      return { key: section.name, value: sopsMap(entries) };
    }),
  );
}

export function readIni(text: string): SopsMap {
  const lines = new Lines(text);
  const sections: Section[] = [{ name: "DEFAULT", comment: "", keys: new Map() }];
  let pending = "";
  for (let raw = lines.read(); raw !== undefined; raw = lines.read()) {
    const line = raw.trimStart();
    if (line === "") continue;
    if (line.startsWith("#") || line.startsWith(";")) {
      pending += line;
      continue;
    }
    if (line.startsWith("[")) {
      startSection(line, pending, sections);
      pending = "";
      continue;
    }
    const { name, rest } = readKeyName(line);
    const { value, comment: inline } = readValue(rest, lines);
    const section = sections[sections.length - 1];
    section?.keys.set(name, { value, comment: (pending + inline).trim() });
    pending = "";
  }
  return toTree(sections);
}
