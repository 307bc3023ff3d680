import express, { Router, type Request, type Response } from "express";
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
  /** Counts batches by outcome (accepted, invalid). */
  readonly onBatch?: (outcome: "accepted" | "invalid", events: number) => void;
}

/**
 * POST /audit/v1/events: the API server's audit webhook backend. A bad body is answered 400
 * with a message that never quotes it: audit bodies can hold Secret values.
 */
export function auditWebhookRouter(options: AuditWebhookOptions): Router {
  const router = Router();
  router.post(
    AUDIT_WEBHOOK_PATH,
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
