/**
 * GET /status on the ops server (and / redirecting to it): the read-only status page. Only the
 * leader holds the journal, so any other replica answers 503 with a page that says so.
 */
import { Router, type Request, type Response } from "express";
import type { Clock } from "../../runtime/clock.js";
import { collectStatus, type StatusSources } from "./collect.js";
import { renderStatusPage, renderUnavailablePage } from "./page.js";

export const STATUS_PATH = "/status";

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

export function statusRouter(options: StatusRouteOptions): Router {
  const router = Router();
  router.get("/", (_req: Request, res: Response) => {
    res.redirect(302, STATUS_PATH);
  });
  router.all(STATUS_PATH, async (req: Request, res: Response) => {
    res.set(HEADERS);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.status(405).set("Allow", "GET, HEAD").type("text/plain").send("read-only: GET or HEAD");
      return;
    }
    const sources = options.sources();
    if (sources === undefined) {
      res.status(503).set("Retry-After", "10").send(renderUnavailablePage());
      return;
    }
    const now = options.clock.now();
    res.send(renderStatusPage(await collectStatus(sources, now), now));
  });
  return router;
}
