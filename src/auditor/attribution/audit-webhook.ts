import { createHash, timingSafeEqual } from "node:crypto";
import express, { Router, type NextFunction, type Request, type Response } from "express";
import { ErrorCodes } from "../../errors.js";
import type { AuditParser } from "./audit-events.js";
import type { AuditFact } from "./facts.js";

/** The path the API server's audit webhook kubeconfig points at. */
export const AUDIT_WEBHOOK_PATH = "/audit/v1/events";
// The API server batches up to 400 events (--audit-webhook-batch-max-size); at Metadata level
// that is well under this, and a RequestResponse policy should not be pointed here.
const BODY_LIMIT = "16mb";

export interface AuditWebhookOptions {
  readonly parse: AuditParser;
  readonly onFacts: (facts: readonly AuditFact[]) => void;
  /** Counts batches by outcome (accepted, invalid, unauthorized). */
  readonly onBatch?: (outcome: "accepted" | "invalid" | "unauthorized", events: number) => void;
  /**
   * The bearer token the API server's audit webhook kubeconfig sends. Set in a cluster: without
   * it anyone who reaches the port could write attribution facts. Tests may leave it out.
   */
  readonly token?: string;
}

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

/** Answers 401 unless the request carries the token (compared in constant time). */
function requireToken(options: AuditWebhookOptions) {
  const want = options.token === undefined ? undefined : digest(options.token);
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = /^Bearer (.+)$/.exec(req.get("authorization") ?? "")?.[1];
    if (want === undefined || (given !== undefined && timingSafeEqual(digest(given), want))) {
      next();
      return;
    }
    options.onBatch?.("unauthorized", 0);
    res.status(401).json({
      code: ErrorCodes.AUDIT_EVENTS_UNAUTHORIZED,
      message: "audit events need the configured bearer token",
    });
  };
}

/**
 * POST /audit/v1/events: the API server's audit webhook backend. A bad body is answered 400
 * with a message that never quotes it: audit bodies can hold Secret values.
 */
export function auditWebhookRouter(options: AuditWebhookOptions): Router {
  const router = Router();
  router.post(
    AUDIT_WEBHOOK_PATH,
    requireToken(options),
    express.json({ limit: BODY_LIMIT }),
    (req: Request, res: Response) => {
      const facts = options.parse(req.body as unknown);
      if (facts === undefined) {
        options.onBatch?.("invalid", 0);
        res.status(400).json({
          code: ErrorCodes.AUDIT_EVENTS_INVALID,
          message: "the body is not an audit.k8s.io/v1 EventList",
        });
        return;
      }
      options.onFacts(facts);
      options.onBatch?.("accepted", facts.length);
      res.status(200).json({});
    },
  );
  return router;
}
