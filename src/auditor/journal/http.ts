import { Router, type Request, type Response } from "express";
import { ErrorCodes } from "../../errors.js";
import type { JournalQuery, JournalStore } from "./store.js";

const FILTERS = ["type", "namespace", "kind", "name"] as const;

function intParam(req: Request, name: string): number | undefined | "invalid" {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^\d{1,9}$/.test(raw)) return "invalid";
  return Number(raw);
}

/** ?since=: an RFC 3339 time, as the journal writes times (UTC, milliseconds). */
function sinceParam(req: Request): { readonly at?: string } | undefined {
  const raw = req.query["since"];
  if (raw === undefined) return {};
  const at = typeof raw === "string" ? Date.parse(raw) : Number.NaN;
  return Number.isNaN(at) ? undefined : { at: new Date(at).toISOString() };
}

function queryOf(req: Request): JournalQuery | string {
  const query: Record<string, string | number> = {};
  for (const name of ["afterSeq", "limit"] as const) {
    const value = intParam(req, name);
    if (value === "invalid") return `${name} must be a whole number`;
    if (value !== undefined) query[name] = value;
  }
  for (const name of [...FILTERS, "user"] as const) {
    const value = req.query[name];
    if (value === undefined) continue;
    if (typeof value !== "string") return `${name} must be given once`;
    query[name === "user" ? "username" : name] = value;
  }
  const since = sinceParam(req);
  if (since === undefined) return "since must be an RFC 3339 time";
  if (since.at !== undefined) query["since"] = since.at;
  return query;
}

/**
 * GET /api/v1/journal: records in sequence order with filters (type, namespace, kind, name,
 * user, since) and paging (afterSeq, limit up to 10,000). The answer carries the chain head and the
 * afterSeq of the next page, so a reader can page through and verify the whole journal.
 */
export function journalRouter(store: JournalStore): Router {
  const router = Router();
  router.get("/api/v1/journal", (req: Request, res: Response) => {
    const query = queryOf(req);
    if (typeof query === "string") {
      res.status(400).json({ code: ErrorCodes.HTTP_BAD_REQUEST, message: query });
      return;
    }
    const items = store.list(query);
    const last = items.at(-1);
    const full = items.length === Math.min(Math.max(query.limit ?? 100, 1), 10_000);
    res.json({
      items,
      head: store.head(),
      ...(full && last !== undefined ? { next: last.seq } : {}),
    });
  });
  return router;
}
