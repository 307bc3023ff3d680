/**
 * The status page's tables, one function per section. Every string from the cluster or the
 * journal goes through esc(): names, reasons, messages and field paths are anyone's text.
 */
import { days, duration, esc, healTook, recordHrefFromStatus, timeEl } from "./format.js";
import type {
  BreakGlassRow,
  ConditionView,
  DriftRow,
  GitSyncRow,
  KeyRow,
  StatusModel,
} from "./model.js";

/** A table with a caption, column headers, and a sentence in place of rows when it is empty. */
export function table(
  caption: string,
  headers: readonly string[],
  rows: readonly string[],
  empty: string,
): string {
  const head = headers.map((h) => `<th scope="col">${esc(h)}</th>`).join("");
  const body =
    rows.length === 0
      ? `<tr><td colspan="${String(headers.length)}" class="empty">${esc(empty)}</td></tr>`
      : rows.map((cells) => `<tr>${cells}</tr>`).join("\n");
  return `<table>\n<caption>${esc(caption)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

const td = (html: string): string => `<td>${html}</td>`;

export function objectName(o: { readonly namespace?: string; readonly name: string }): string {
  return o.namespace === undefined || o.namespace === "" ? o.name : `${o.namespace}/${o.name}`;
}

/** "main@sha1:<40 hex>" shown as "main@0123456789ab", the whole revision in its title. */
export function revisionHtml(revision: string | undefined): string {
  if (revision === undefined) return `<span class="muted">none applied yet</span>`;
  const short = revision.replace(/@sha1:([0-9a-f]{12})[0-9a-f]{28}$/, "@$1");
  return `<code title="${esc(revision)}">${esc(short)}</code>`;
}

const WORDS: Readonly<Record<string, readonly [string, string, string]>> = {
  Ready: ["Ready", "Not ready", "ok"],
  Healthy: ["Healthy", "Unhealthy", "ok"],
  // Drifted=True is the bad news.
  Drifted: ["Drifted", "In sync", "bad"],
};

function conditionHtml(type: keyof typeof WORDS, c: ConditionView | undefined): string {
  const [yes, no, trueClass] = WORDS[type] ?? [type, `not ${type}`, "ok"];
  if (c === undefined) return `<span class="muted">not reported</span>`;
  const word = c.status === "True" ? yes : c.status === "False" ? no : "Unknown";
  const falseClass = trueClass === "ok" ? "bad" : "ok";
  const cls = c.status === "True" ? trueClass : c.status === "False" ? falseClass : "warn";
  const reason = c.reason === undefined ? "" : ` <span class="reason">${esc(c.reason)}</span>`;
  const message = c.message === undefined ? "" : `<div class="msg">${esc(c.message)}</div>`;
  return `<strong class="${cls}">${esc(word)}</strong>${reason}${message}`;
}

function gitSyncCells(g: GitSyncRow, nowMs: number): string {
  const where = [g.path === undefined ? "" : `path ${g.path}`, g.ref ?? ""].filter(Boolean);
  const suspended = g.suspended ? ` <span class="warn">(suspended)</span>` : "";
  return [
    td(`<strong>${esc(objectName(g))}</strong>${suspended}`),
    td(
      `<code>${esc(g.url)}</code>${where.length === 0 ? "" : `<div class="msg">${esc(where.join(", "))}</div>`}`,
    ),
    td(revisionHtml(g.revision)),
    td(conditionHtml("Ready", g.ready)),
    td(conditionHtml("Healthy", g.healthy)),
    td(conditionHtml("Drifted", g.drifted)),
    td(
      g.lastSyncMs === undefined ? `<span class="muted">never</span>` : timeEl(g.lastSyncMs, nowMs),
    ),
  ].join("");
}

export function gitSyncSection(model: StatusModel, nowMs: number): string {
  return table(
    "GitSyncs",
    ["GitSync", "Source", "Revision", "Ready", "Health", "Drift", "Last sync"],
    model.gitSyncs.map((g) => gitSyncCells(g, nowMs)),
    "No GitSyncs in the cluster.",
  );
}

const MAX_FIELDS = 8;

function fieldsHtml(fields: readonly string[]): string {
  if (fields.includes("")) return `<strong class="bad">whole object deleted</strong>`;
  if (fields.length === 0) return `<span class="muted">none recorded</span>`;
  const shown = fields.slice(0, MAX_FIELDS).map((f) => `<li><code>${esc(f)}</code></li>`);
  const more = fields.length - MAX_FIELDS;
  if (more > 0) shown.push(`<li class="muted">and ${String(more)} more</li>`);
  return `<ul class="fields">${shown.join("")}</ul>`;
}

function whoHtml(d: DriftRow): string {
  if (d.user === undefined) return `<strong class="warn">unknown</strong> (unattributed)`;
  const groups =
    d.user.groups.length === 0
      ? ""
      : `<div class="msg">groups: ${esc(d.user.groups.join(", "))}</div>`;
  return `<strong>${esc(d.user.username)}</strong>${groups}`;
}

function whatHtml(d: DriftRow): string {
  const name = `${d.object.kind} ${objectName(d.object)}`;
  const glass =
    d.type === "break-glass"
      ? `<div><span class="tag">break-glass</span> ${esc(d.reason ?? "")}</div>`
      : "";
  return `<strong>${esc(name)}</strong>${glass}`;
}

function gitHtml(d: DriftRow): string {
  if (d.gitSync === undefined) return `<span class="muted">not from a GitSync</span>`;
  return `${esc(objectName(d.gitSync))}<div class="msg">${revisionHtml(d.revision)}</div>`;
}

function healedHtml(d: DriftRow, nowMs: number): string {
  if (d.healedAtMs === undefined) return `<strong class="bad">not healed</strong>`;
  const after = `healed after ${healTook(d.healedAtMs - d.atMs)}`;
  return `<strong class="ok">${esc(after)}</strong><div class="msg">${timeEl(d.healedAtMs, nowMs)}</div>`;
}

/** When, and the link to the record's detail view (diff values, source, heal). */
function whenHtml(d: DriftRow, nowMs: number): string {
  const href = esc(recordHrefFromStatus(d.seq));
  return `${timeEl(d.atMs, nowMs)}<div class="msg"><a href="${href}">record #${String(d.seq)}</a></div>`;
}

export function driftSection(model: StatusModel, nowMs: number): string {
  const rows = model.drifts.map((d) =>
    [
      td(whenHtml(d, nowMs)),
      td(whoHtml(d)),
      td(whatHtml(d)),
      td(fieldsHtml(d.fields)),
      td(gitHtml(d)),
      td(healedHtml(d, nowMs)),
    ].join(""),
  );
  return table(
    "Drift timeline (newest first)",
    ["When", "Who", "What", "Changed fields", "Git", "Healed"],
    rows,
    "No drift recorded.",
  );
}

function breakGlassCells(b: BreakGlassRow, nowMs: number): string {
  const forever = !Number.isFinite(b.untilMs);
  return [
    td(`<strong>${esc(`${b.object.kind} ${objectName(b.object)}`)}</strong>`),
    td(esc(b.reason)),
    td(b.user === undefined ? `<span class="muted">not in the journal</span>` : esc(b.user)),
    td(forever ? `<span class="bad">no valid expiry</span>` : timeEl(b.untilMs, nowMs)),
    td(
      forever
        ? `<span class="bad">until the annotation is removed</span>`
        : `<strong class="warn">${esc(`${duration(b.untilMs - nowMs)} left`)}</strong>`,
    ),
  ].join("");
}

export function breakGlassSection(model: StatusModel, nowMs: number): string {
  return table(
    "Active break-glass",
    ["Object", "Reason", "Broken by", "Expires", "Time left"],
    model.breakGlass.map((b) => breakGlassCells(b, nowMs)),
    "No active break-glass.",
  );
}

function keyCells(k: KeyRow, nowMs: number): string {
  const newest = k.newest ? ` <span class="tag">newest</span>` : "";
  return [
    // The caption names the namespace.
    td(`<strong>${esc(k.name)}</strong>${newest}`),
    td(esc(k.labels.join(", "))),
    td(
      k.createdMs === undefined ? `<span class="muted">unknown</span>` : timeEl(k.createdMs, nowMs),
    ),
    td(k.createdMs === undefined ? "" : esc(days(nowMs - k.createdMs))),
  ].join("");
}

export function keySection(model: StatusModel, nowMs: number): string {
  const caption = `Sealing keys in ${model.keyNamespace}`;
  if ("error" in model.keys) {
    return table(
      caption,
      ["Key Secret"],
      [],
      `The key Secrets cannot be listed: ${model.keys.error}`,
    );
  }
  return table(
    caption,
    ["Key Secret", "Labelled by", "Created", "Age"],
    model.keys.rows.map((k) => keyCells(k, nowMs)),
    "No sealing keys found.",
  );
}
