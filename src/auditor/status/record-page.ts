/**
 * The detail view of one journal record, /status/records/<seq>: pure like page.ts (view and now
 * in, text out), no scripts. Every string from the journal or the cluster goes through esc().
 */
import type { JournalRecord } from "../journal/record.js";
import {
  esc,
  healTook,
  iso,
  recordHrefFromRecord,
  relative,
  STATUS_HREF_FROM_RECORD,
  timeEl,
} from "./format.js";
import { document, REFRESH_SECONDS } from "./page.js";
import { diffSection } from "./record-diff.js";
import type { RecordView } from "./record-view.js";
import { objectName, revisionHtml, table } from "./sections.js";

/** A row of the record's table: left out when html is undefined (the record has no such field). */
type Field = readonly [label: string, html: string | undefined];

const SOURCES: Readonly<Record<string, string>> = {
  "audit-webhook": "the API server's audit webhook",
  admission: "the admission webhook (the fact it wrote when it admitted the change)",
  managedFields: "not known: only field managers",
};

const muted = (text: string): string => `<span class="muted">${esc(text)}</span>`;

/** Drift and break-glass: records of a change someone made, which name who, or say they cannot. */
function isChange(r: JournalRecord): boolean {
  return r.type === "drift-detected" || r.type === "break-glass";
}

function whenHtml(atMs: number, nowMs: number): string {
  return `${timeEl(atMs, nowMs, iso(atMs))} ${muted(`(${relative(atMs, nowMs)})`)}`;
}

function objectHtml(r: JournalRecord): string | undefined {
  const o = r.object;
  if (o === undefined) return undefined;
  const details = [o.apiVersion, o.uid === undefined ? "" : `uid ${o.uid}`].filter(Boolean);
  return `<strong>${esc(`${o.kind} ${objectName(o)}`)}</strong><div class="msg">${esc(details.join(", "))}</div>`;
}

function whoHtml(r: JournalRecord): string {
  if (r.user === undefined) {
    return isChange(r)
      ? `<strong class="warn">unknown</strong> (unattributed)`
      : muted("not recorded");
  }
  const groups = r.user.groups.length === 0 ? "no groups" : `groups: ${r.user.groups.join(", ")}`;
  const uid =
    r.user.uid === undefined ? "" : `<div class="msg">uid <code>${esc(r.user.uid)}</code></div>`;
  return `<strong>${esc(r.user.username)}</strong><div class="msg">${esc(groups)}</div>${uid}`;
}

function sourceHtml(r: JournalRecord): string | undefined {
  const source = r.userSource;
  if (source === undefined) return isChange(r) ? muted("not recorded") : undefined;
  return `${esc(SOURCES[source] ?? "recorded as")} <code>${esc(source)}</code>`;
}

function managersHtml(r: JournalRecord): string | undefined {
  const managers = r.fieldManagers ?? [];
  if (managers.length === 0) return isChange(r) ? muted("none recorded") : undefined;
  return managers.map((m) => `<code>${esc(m)}</code>`).join(", ");
}

function gitSyncHtml(r: JournalRecord): string | undefined {
  if (r.gitSync !== undefined) return esc(objectName(r.gitSync));
  return isChange(r) ? muted("not from a GitSync") : undefined;
}

/** The repository and path the record's GitSync names now (the record holds only its name). */
function gitSourceHtml(view: RecordView): string | undefined {
  const g = view.gitSync;
  if (g === undefined) {
    return view.record.gitSync === undefined ? undefined : muted("the GitSync is gone");
  }
  const where = [`path ${g.path ?? "/ (the repository's root)"}`, g.ref ?? ""].filter(Boolean);
  return `<code>${esc(g.url)}</code><div class="msg">${esc(where.join(", "))} (the GitSync's spec now)</div>`;
}

function healedHtml(view: RecordView, nowMs: number): string | undefined {
  const heal = view.heal;
  if (heal === undefined) return undefined;
  if (heal === "open") return `<strong class="bad">not healed</strong>`;
  const took = healTook(heal.atMs - Date.parse(view.record.time));
  const link = `<a href="${esc(recordHrefFromRecord(heal.seq))}">record #${String(heal.seq)}</a>`;
  return `<strong class="ok">${esc(`healed after ${took}`)}</strong> by ${link}<div class="msg">${whenHtml(heal.atMs, nowMs)}</div>`;
}

function reasonField(r: JournalRecord): Field {
  const label = r.type === "break-glass" ? "Break-glass reason" : "Reason";
  return [label, r.reason === undefined ? undefined : esc(r.reason)];
}

/** Where the record came from, when it was made from an Event or an audited request. */
function originFields(r: JournalRecord): Field[] {
  const e = r.event;
  return [
    ["From Event", e === undefined ? undefined : `${esc(objectName(e))} ${muted(`uid ${e.uid}`)}`],
    ["Audit ID", r.auditId === undefined ? undefined : `<code>${esc(r.auditId)}</code>`],
  ];
}

function fields(view: RecordView, nowMs: number): Field[] {
  const r = view.record;
  return [
    ["Type", `<code>${esc(r.type)}</code>`],
    ["Time", whenHtml(Date.parse(r.time), nowMs)],
    ["Object", objectHtml(r)],
    ["Who", whoHtml(r)],
    ["Source of who", sourceHtml(r)],
    ["Field managers", managersHtml(r)],
    reasonField(r),
    ["Message", r.message === undefined ? undefined : esc(r.message)],
    ["GitSync", gitSyncHtml(r)],
    ["Revision", r.revision === undefined ? undefined : revisionHtml(r.revision)],
    ["Git source", gitSourceHtml(view)],
    ["Healed", healedHtml(view, nowMs)],
    ...originFields(r),
    [
      "Hash",
      `<code>${esc(r.hash)}</code><div class="msg">previous <code>${esc(r.prevHash)}</code></div>`,
    ],
  ];
}

function fieldSection(view: RecordView, nowMs: number): string {
  const rows = fields(view, nowMs).flatMap(([label, html]) =>
    html === undefined ? [] : [`<th scope="row">${esc(label)}</th><td>${html}</td>`],
  );
  return table(`Record #${String(view.record.seq)}`, ["Field", "Value"], rows, "");
}

function header(title: string, note: string): string {
  return [
    "<header>",
    `<nav><a href="${STATUS_HREF_FROM_RECORD}">← status</a></nav>`,
    `<h1>${esc(title)}</h1>`,
    `<p>${esc(note)}</p>`,
    "</header>",
  ].join("\n");
}

export function renderRecordPage(view: RecordView, nowMs: number): string {
  const r = view.record;
  const open = view.heal === "open";
  const note = open
    ? `Read-only; reloads every ${String(REFRESH_SECONDS)} s until the drift is healed.`
    : "Read-only.";
  const body = [
    header(`Journal record #${String(r.seq)}: ${r.type}`, note),
    "<main>",
    fieldSection(view, nowMs),
    diffSection(r),
    "</main>",
    "<footer>",
    `<p>The record as stored is in <code>/api/v1/journal?afterSeq=${String(r.seq - 1)}&amp;limit=1</code> and <code>gitops-guard audit list</code>. Secret values never appear here: the journal holds digests only.</p>`,
    "</footer>",
  ].join("\n");
  return document(
    `gitops-guard journal record #${String(r.seq)}`,
    body,
    open ? REFRESH_SECONDS : 0,
  );
}

/** 400 (not a record number) or 404 (no such record): a short page that links back. */
export function renderRecordError(status: 400 | 404, seq?: number): string {
  const message =
    status === 404 && seq !== undefined
      ? `The journal holds no record #${String(seq)}.`
      : "Not a journal record number: a record's address is /status/records/<seq>, seq a whole number.";
  const title = status === 404 ? "No such record" : "Not a record number";
  return document(`gitops-guard journal record: ${title}`, header(title, message), 0);
}
