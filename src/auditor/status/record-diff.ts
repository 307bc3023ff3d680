/**
 * A journal record's field diff as a table: path, op, before, after. Values are anyone's text
 * (ConfigMap data, container args): escaped, shortened when long, and objects shown as compact
 * JSON. A Secret's values are digests in the journal (secretValueDigest); anything else found
 * in one is withheld, never shown.
 */
import type { FieldChange, JournalRecord } from "../journal/record.js";
import { esc } from "./format.js";
import { table } from "./sections.js";

/** Characters of a value shown before the ellipsis (a Secret digest, 71, is never shortened). */
export const MAX_VALUE_CHARS = 200;
/** Changes shown; a record's diff can list a whole object's fields. */
export const MAX_DIFF_ROWS = 200;

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const ASTRAL = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

export type ShownValue =
  | { readonly kind: "absent" }
  | { readonly kind: "withheld" }
  /** chars: the whole value's length in characters, when text is its shortened start. */
  | { readonly kind: "text"; readonly text: string; readonly chars?: number };

function characters(text: string): number {
  return text.length - (text.match(ASTRAL)?.length ?? 0);
}

/** text, or its first MAX_VALUE_CHARS characters and an ellipsis (never half a surrogate pair). */
function shorten(text: string): ShownValue {
  const units = text.slice(0, 2 * MAX_VALUE_CHARS);
  const points = Array.from(units);
  if (units.length === text.length && points.length <= MAX_VALUE_CHARS)
    return { kind: "text", text };
  const head = points
    .slice(0, MAX_VALUE_CHARS)
    .join("")
    .replace(/[\uD800-\uDBFF]$/, "");
  return { kind: "text", text: `${head}…`, chars: characters(text) };
}

/** How one before or after value is shown; secret: the record is a Secret's. */
export function shownValue(value: unknown, secret: boolean): ShownValue {
  if (value === undefined) return { kind: "absent" };
  if (secret && !(typeof value === "string" && DIGEST.test(value))) return { kind: "withheld" };
  // The journal is JSON: anything but a string is a number, boolean, null, array or object.
  return shorten(typeof value === "string" ? value : JSON.stringify(value));
}

function valueHtml(shown: ShownValue): string {
  if (shown.kind === "absent") return `<span class="muted">absent</span>`;
  if (shown.kind === "withheld") return `<strong class="bad">withheld: not a digest</strong>`;
  if (shown.text === "") return `<span class="muted">empty string</span>`;
  const more =
    shown.chars === undefined
      ? ""
      : `<div class="msg">shortened: ${String(shown.chars)} characters in all</div>`;
  return `<code class="value">${esc(shown.text)}</code>${more}`;
}

function changeCells(change: FieldChange, secret: boolean): string {
  const path =
    change.path === "" ? `<strong>(whole object)</strong>` : `<code>${esc(change.path)}</code>`;
  return [
    path,
    esc(change.op),
    valueHtml(shownValue(change.from, secret)),
    valueHtml(shownValue(change.to, secret)),
  ]
    .map((html) => `<td>${html}</td>`)
    .join("");
}

export function isSecretRecord(record: JournalRecord): boolean {
  return record.object?.kind === "Secret";
}

export function diffSection(record: JournalRecord): string {
  const secret = isSecretRecord(record);
  const changes = record.diff ?? [];
  const rows = changes.slice(0, MAX_DIFF_ROWS).map((c) => changeCells(c, secret));
  const more = changes.length - MAX_DIFF_ROWS;
  if (more > 0) {
    rows.push(
      `<td colspan="4" class="muted">and ${String(more)} more changes: the whole record is in /api/v1/journal</td>`,
    );
  }
  const caption = secret
    ? "Field diff (a Secret: values are SHA-256 digests, never the values)"
    : "Field diff";
  return table(caption, ["Path", "Op", "Before", "After"], rows, "No field changes recorded.");
}
