/**
 * Express building blocks shared by the ops server and the webhook server: request counting
 * and logging, a bounded JSON body parser, and error responses that are always JSON.
 */
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from "express";
import { isGuardError } from "../errors.js";
import type { Logger } from "../telemetry/log.js";
import type { Metrics } from "../telemetry/metrics.js";

/** The API server sends AdmissionReviews well under this; larger bodies get a JSON 413. */
export const JSON_BODY_LIMIT = "2mb";
export const JSON_BODY_LIMIT_BYTES = 2 * 1024 * 1024;

/** The `code` of error bodies that do not come from a GuardError. */
export const INTERNAL_ERROR_CODE = "GG_INTERNAL";

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
}

/** JSON body parser with a size limit; parse and size errors reach errorHandler as 400/413. */
export function jsonBody(limit: string = JSON_BODY_LIMIT): RequestHandler {
  return express.json({ limit });
}

export interface RequestTelemetryOptions {
  /** The `server` label: "ops", "webhook". */
  readonly server: string;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Paths counted but never logged: probes and scrapes would drown the log. */
  readonly quietPaths?: readonly string[];
}

/** The matched route pattern, not the raw path, so metric labels stay bounded. */
function routeOf(req: Request): string {
  const route: unknown = req.route;
  if (typeof route === "object" && route !== null && "path" in route) {
    return typeof route.path === "string" ? req.baseUrl + route.path : "unmatched";
  }
  return "unmatched";
}

/** Counts every request in metrics.httpRequests and logs those not in quietPaths. */
export function requestTelemetry(options: RequestTelemetryOptions): RequestHandler {
  const quiet = new Set(options.quietPaths ?? []);
  return (req, res, next) => {
    // A monotonic reading for the duration only; wall-clock time comes from the logger.
    const started = performance.now();
    res.on("finish", () => {
      const code = String(res.statusCode);
      options.metrics.httpRequests.inc({ server: options.server, route: routeOf(req), code });
      if (quiet.has(req.path)) return;
      const fields = {
        server: options.server,
        method: req.method,
        path: req.path,
        statusCode: res.statusCode,
        durationMs: Math.round(performance.now() - started),
      };
      if (res.statusCode >= 500) options.logger.error(fields, "request failed");
      else options.logger.info(fields, "request");
    });
    next();
  };
}

/** A 4xx status set on a thrown value (body-parser, http-errors): its message is for the client. */
function clientStatus(err: unknown): { status: number; message: string } | undefined {
  if (typeof err !== "object" || err === null || !("status" in err)) return undefined;
  const status = err.status;
  if (typeof status !== "number" || status < 400 || status > 499) return undefined;
  const message = "message" in err && typeof err.message === "string" ? err.message : "bad request";
  return { status, message };
}

export function errorBody(err: unknown): { status: number; body: ErrorBody } {
  if (isGuardError(err)) return { status: 500, body: { code: err.code, message: err.message } };
  const client = clientStatus(err);
  if (client !== undefined) {
    return {
      status: client.status,
      body: { code: `GG_HTTP_${client.status}`, message: client.message },
    };
  }
  // Unknown errors may carry internals; the details go to the log, not to the caller.
  return { status: 500, body: { code: INTERNAL_ERROR_CODE, message: "internal error" } };
}

/** Last in the chain: every error becomes a JSON { code, message }, never an empty 500. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      // Too late for a body; express ends the connection.
      next(err);
      return;
    }
    const { status, body } = errorBody(err);
    if (status >= 500) logger.error({ err, method: req.method, path: req.path }, "request error");
    res.status(status).json(body);
  };
}

/** A JSON 404 instead of express's HTML page. */
export function notFound(): RequestHandler {
  return (req, res) => {
    const body: ErrorBody = {
      code: "GG_HTTP_404",
      message: `no route for ${req.method} ${req.path}`,
    };
    res.status(404).json(body);
  };
}
