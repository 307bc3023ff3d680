/**
 * GET /status on the ops server (and / redirecting to it): the read-only status page, and
 * /status/records/<seq>, one journal record's detail view. Only the leader holds the journal,
 * so any other replica answers 503 with a page that says so.
 */
import { Router, type Request, type Response } from "express";
import type { Clock } from "../../runtime/clock.js";
import { collectStatus, type StatusSources } from "./collect.js";
import { renderStatusPage, renderUnavailablePage } from "./page.js";
import { renderRecordError, renderRecordPage } from "./record-page.js";
import { collectRecord, parseSeq } from "./record-view.js";

export const STATUS_PATH = "/status";
export const RECORD_PATH = `${STATUS_PATH}/records/:seq`;

// No script may run and nothing may load from elsewhere: the page is text and one inline
// style sheet, so even a name that slipped past escaping could not execute.
const HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/html; charset=utf-8",
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

export interface StatusRouteOptions {
  /** The auditor's sources while it runs (the leader); undefined on any other replica. */
  readonly sources: () => StatusSources | undefined;
  readonly clock: Clock;
}

interface Answer {
  readonly status: number;
  readonly html: string;
}

type Render = (sources: StatusSources, nowMs: number, req: Request) => Answer | Promise<Answer>;

/**
 * The common part of every page: headers, GET and HEAD only, 503 off the leader, and no
 * trailing slash (the pages link each other relatively, which needs one depth per page).
 */
function page(options: StatusRouteOptions, render: Render) {
  return async (req: Request, res: Response): Promise<void> => {
    res.set(HEADERS);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.status(405).set("Allow", "GET, HEAD").type("text/plain").send("read-only: GET or HEAD");
      return;
    }
    const last = /([^/]+)\/+$/.exec(req.path);
    if (last !== null) {
      res.redirect(301, `../${last[1] ?? ""}`);
      return;
    }
    const sources = options.sources();
    if (sources === undefined) {
      res.status(503).set("Retry-After", "10").send(renderUnavailablePage());
      return;
    }
    const { status, html } = await render(sources, options.clock.now(), req);
    res.status(status).send(html);
  };
}

function recordAnswer(sources: StatusSources, nowMs: number, req: Request): Answer {
  const seq = parseSeq(String(req.params["seq"]));
  if (seq === undefined) return { status: 400, html: renderRecordError(400) };
  const view = collectRecord(sources, seq);
  if (view === undefined) return { status: 404, html: renderRecordError(404, seq) };
  return { status: 200, html: renderRecordPage(view, nowMs) };
}

export function statusRouter(options: StatusRouteOptions): Router {
  const router = Router();
  router.get("/", (_req: Request, res: Response) => {
    res.redirect(302, STATUS_PATH);
  });
  router.all(
    STATUS_PATH,
    page(options, async (sources, nowMs) => ({
      status: 200,
      html: renderStatusPage(await collectStatus(sources, nowMs), nowMs),
    })),
  );
  router.all(RECORD_PATH, page(options, recordAnswer));
  return router;
}
