/**
 * The status page as one HTML string: pure (model and now in, text out), no scripts, one
 * small inline style sheet, so it works in any browser, through any proxy, with a strict CSP.
 */
import { duration, esc, timeEl } from "./format.js";
import type { StatusModel } from "./model.js";
import { breakGlassSection, driftSection, gitSyncSection, keySection } from "./sections.js";

/** The page reloads itself this often; a person watching a heal needs nothing else. */
export const REFRESH_SECONDS = 10;

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
.summary { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; padding: 0; list-style: none; }
.summary li { padding: .3rem .6rem; border: 1px solid #ccc; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin: 1.5rem 0; }
caption { text-align: left; font-weight: 600; font-size: 1.1rem; padding: .3rem 0; }
th, td { border: 1px solid #ccc; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
tbody tr:nth-child(even) { background: #fafafa; }
code { font: 12px/1.3 ui-monospace, monospace; overflow-wrap: anywhere; }
ul.fields { margin: 0; padding-left: 1rem; }
.msg { color: #444; font-size: 12px; overflow-wrap: anywhere; }
.reason { color: #444; }
.muted, .empty { color: #666; }
.ok { color: #11652a; }
.bad { color: #b00020; }
.warn { color: #8a5300; }
.tag { font-size: 11px; border: 1px solid currentColor; border-radius: 3px; padding: 0 .3rem; }
footer { color: #555; font-size: 12px; }
th[scope="row"] { width: 11rem; }
code.value { white-space: pre-wrap; }
nav { margin: .5rem 0; }
`;

/** A whole page around body; it reloads itself every `refresh` seconds unless that is 0. */
export function document(title: string, body: string, refresh = REFRESH_SECONDS): string {
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    ...(refresh > 0 ? [`<meta http-equiv="refresh" content="${String(refresh)}">`] : []),
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
    `<body>\n${body}\n</body>`,
    "</html>",
    "",
  ].join("\n");
}

function count(n: number, one: string, many: string): string {
  return `${String(n)} ${n === 1 ? one : many}`;
}

function summary(model: StatusModel, nowMs: number): string {
  const notReady = model.gitSyncs.filter((g) => g.ready?.status !== "True").length;
  const open = model.drifts.filter((d) => d.healedAtMs === undefined).length;
  const newest = "rows" in model.keys ? model.keys.rows.find((k) => k.newest) : undefined;
  const items = [
    `${count(model.gitSyncs.length, "GitSync", "GitSyncs")}, ${String(notReady)} not ready`,
    `${count(model.drifts.length, "drift", "drifts")} shown, ${String(open)} not healed`,
    `${String(model.breakGlass.length)} active break-glass`,
    newest?.createdMs === undefined
      ? "no sealing key age known"
      : `newest sealing key ${duration(nowMs - newest.createdMs)} old`,
  ];
  return `<ul class="summary" aria-label="Summary">${items.map((i) => `<li>${esc(i)}</li>`).join("")}</ul>`;
}

export function renderStatusPage(model: StatusModel, nowMs: number): string {
  const body = [
    "<header>",
    "<h1>gitops-guard status</h1>",
    `<p>Generated ${timeEl(nowMs, nowMs, new Date(nowMs).toISOString())}; reloads every ${String(REFRESH_SECONDS)} s. Read-only.</p>`,
    summary(model, nowMs),
    "</header>",
    "<main>",
    gitSyncSection(model, nowMs),
    driftSection(model, nowMs),
    breakGlassSection(model, nowMs),
    keySection(model, nowMs),
    "</main>",
    "<footer>",
    `<p>Drift timeline from the newest ${String(model.journal.scanned)} journal records (chain head #${String(model.journal.headSeq)}); the whole journal is at <a href="/api/v1/journal">/api/v1/journal</a> and <code>gitops-guard audit list</code>. Secret values never appear here: the journal holds digests only.</p>`,
    "</footer>",
  ].join("\n");
  return document("gitops-guard status", body);
}

/** What a replica without the journal answers (a standby, or the leader still starting). */
export function renderUnavailablePage(): string {
  const body = [
    "<h1>gitops-guard status</h1>",
    "<p><strong>This page is served by the leader.</strong> This replica is not running the auditor (it is a standby, or the auditor's journal is not open yet).</p>",
    `<p>It reloads every ${String(REFRESH_SECONDS)} s; behind a Service, a reload may reach the leader.</p>`,
  ].join("\n");
  return document("gitops-guard status: not the leader", body);
}
