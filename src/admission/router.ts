/**
 * The webhook's request listener: POST /validate parses, decides and answers through the pure core,
 * then records the decision (metrics, log, Event). Whatever goes wrong answers an
 * AdmissionReview the API server can read: a denial (or an allow, per failure mode) with a
 * message, a JSON 400 when the body has no uid to answer to, never a bare 500.
 */
import type { RequestListener, ServerResponse } from "node:http";
import express, { type Express } from "express";
import { ErrorCodes, GuardError, errorMessage } from "../errors.js";
import { errorHandler, notFound, requestTelemetry } from "../http/middleware.js";
import type { Clock } from "../runtime/clock.js";
import type { Logger } from "../telemetry/log.js";
import type { Metrics } from "../telemetry/metrics.js";
import type { DecideContext } from "./context.js";
import type { AdmissionCore, ReviewResult } from "./core.js";
import type { Decision } from "./decision.js";
import type { AdmissionMetrics } from "./metrics.js";
import type { GuardPolicy } from "./policy-types.js";
import { REVIEW_BODY_LIMIT_BYTES, reviewListener } from "./review-listener.js";
import { internalErrorResponse } from "./review.js";
import type { AdmissionRequest } from "./review-types.js";
import { WEBHOOK_PATH } from "./webhook-config.js";

/** What decide() needs for one request, read fresh from the informers each time. */
export interface AdmissionView {
  readonly policies: readonly GuardPolicy[];
  readonly context: DecideContext;
}

export interface AdmissionAppOptions {
  readonly core: AdmissionCore;
  readonly view: () => AdmissionView;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly admission: AdmissionMetrics;
  /** Failure mode for internal errors: "deny" (default) or "allow". */
  readonly onInternalError?: "deny" | "allow";
  /** After the answer is sent: Events for out-of-band changes and denials. Must not throw. */
  readonly onDecision?: (decision: Decision, request: AdmissionRequest) => void;
}

function judge(options: AdmissionAppOptions, body: unknown): ReviewResult {
  try {
    const { policies, context } = options.view();
    return options.core.review(body, policies, options.clock.now(), context);
  } catch (err: unknown) {
    // core.review never throws; this is the view (informer data) failing.
    const error = new GuardError(ErrorCodes.ADMISSION_INTERNAL, errorMessage(err), { cause: err });
    const parsed = options.core.parseReview(body);
    if (!parsed.ok) return options.core.review(body, [], options.clock.now());
    const allow = options.onInternalError === "allow";
    return { httpStatus: 200, body: internalErrorResponse(parsed.review, error, allow), error };
  }
}

function logDecision(logger: Logger, decision: Decision, request: AdmissionRequest): void {
  const fields = {
    uid: request.uid,
    user: request.userInfo.username,
    operation: request.operation,
    object: decision.object,
    subresource: request.subResource,
    reason: decision.reason,
    effect: decision.effect,
    policy: decision.policy,
    fields: decision.changedFields,
    dryRun: request.dryRun === true,
  };
  if (decision.effect === "allow") logger.debug(fields, "admission allowed");
  else
    logger.info(
      fields,
      decision.effect === "deny" ? "admission denied" : "admission allowed with warning",
    );
}

function record(
  options: AdmissionAppOptions,
  result: ReviewResult,
  started: number,
  body: unknown,
): void {
  const seconds = (performance.now() - started) / 1000;
  if (result.httpStatus === 200 && result.decision !== undefined) {
    options.admission.record(result.decision, seconds);
    const request = (body as { request: AdmissionRequest }).request;
    logDecision(options.logger, result.decision, request);
    options.onDecision?.(result.decision, request);
    return;
  }
  const error = result.error;
  if (error !== undefined) {
    options.admission.failures.inc({ code: error.code });
    options.logger.warn({ code: error.code, err: error.message }, "admission review not judged");
  }
}

/**
 * The answer in one write: express's res.json() (content negotiation, charset, a second copy
 * of the body) costs more than deciding does, on the one route the API server waits for.
 */
function send(res: ServerResponse, result: ReviewResult): void {
  const body = Buffer.from(JSON.stringify(result.body));
  res.writeHead(result.httpStatus, {
    "Content-Type": "application/json",
    "Content-Length": String(body.length),
  });
  res.end(body);
}

function validate(options: AdmissionAppOptions) {
  return (body: unknown, res: ServerResponse): void => {
    const started = performance.now();
    const result = judge(options, body);
    send(res, result);
    try {
      record(options, result, started, body);
    } catch (err: unknown) {
      // The answer is out; telemetry must never turn into an error for the API server.
      options.logger.error({ err: errorMessage(err) }, "cannot record admission decision");
    }
  };
}

/** Everything but POST /validate: JSON 404s and errors, counted and logged. */
function fallbackApp(options: AdmissionAppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.use(
    requestTelemetry({ server: "webhook", metrics: options.metrics, logger: options.logger }),
  );
  app.use(notFound());
  app.use(errorHandler(options.logger));
  return app;
}

/** The webhook server's request listener: POST /validate on a lean path, the rest express. */
export function createAdmissionApp(options: AdmissionAppOptions): RequestListener {
  return reviewListener({
    path: WEBHOOK_PATH,
    limitBytes: REVIEW_BODY_LIMIT_BYTES,
    metrics: options.metrics,
    onReview: validate(options),
    fallback: fallbackApp(options),
  });
}
