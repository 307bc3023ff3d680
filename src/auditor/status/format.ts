/** Text and time helpers for the status page: HTML escaping, durations, <time> elements. */

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for an element's content or a quoted attribute: every string goes through it. */
export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

const UNITS = [
  ["d", 86_400],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
] as const;

/** A duration as people say it: "4s", "3m 20s", "2h 5m", "3d" (the largest unit and the next). */
export function duration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const first = UNITS.findIndex(([, seconds]) => total >= seconds);
  if (first === -1) return "0s";
  const [unit, seconds] = UNITS[first] ?? UNITS[3];
  const head = `${String(Math.floor(total / seconds))}${unit}`;
  const next = UNITS[first + 1];
  if (next === undefined) return head;
  const rest = Math.floor((total % seconds) / next[1]);
  return rest === 0 ? head : `${head} ${String(rest)}${next[0]}`;
}

/** "3m ago", or "in 3m" for a time still to come; "just now" within a second. */
export function relative(atMs: number, nowMs: number): string {
  if (Math.abs(nowMs - atMs) < 1000) return "just now";
  return atMs <= nowMs ? `${duration(nowMs - atMs)} ago` : `in ${duration(atMs - nowMs)}`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * How long a heal took. Self-heal is often quicker than a second, and "0s" would read as "not
 * measured": tenths below a second.
 */
export function healTook(ms: number): string {
  return ms < 1000 ? `${(Math.max(0, ms) / 1000).toFixed(1)}s` : duration(ms);
}

/** A <time> with the absolute time in datetime and title, and `label` (default: relative) shown. */
export function timeEl(atMs: number, nowMs: number, label?: string): string {
  const at = iso(atMs);
  return `<time datetime="${at}" title="${at}">${esc(label ?? relative(atMs, nowMs))}</time>`;
}

/** Whole days, for key ages. */
export function days(ms: number): string {
  const n = Math.floor(Math.max(0, ms) / 86_400_000);
  if (n === 0) return "less than a day";
  return n === 1 ? "1 day" : `${String(n)} days`;
}

// Links between the pages are relative, so they also work under the API server's service proxy
// (…/services/gitops-guard:http/proxy/status): the route redirects a trailing slash away so
// they always resolve from the same depth.

/** A record's detail view, linked from /status. */
export function recordHrefFromStatus(seq: number): string {
  return `status/records/${String(seq)}`;
}

/** Another record's detail view, linked from /status/records/<seq>. */
export function recordHrefFromRecord(seq: number): string {
  return String(seq);
}

/** /status, linked from /status/records/<seq>. */
export const STATUS_HREF_FROM_RECORD = "../../status";
