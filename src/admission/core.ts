/**
 * The admission core as one value: schemas compiled once per createAdmissionCore() call (never
 * at import), then parse -> decide -> respond with no I/O. The HTTPS router is a thin shell:
 *
 *   const result = core.review(req.body, policies, clock.now(), context);
 *   res.status(result.httpStatus).json(result.body);
 */
import { ErrorCodes, GuardError, errorMessage } from "../errors.js";
import type { DecideContext } from "./context.js";
import { decide } from "./decide.js";
import type { Decision } from "./decision.js";
import { createPolicyParser, type PolicyParser } from "./policy.js";
import type { GuardPolicy } from "./policy-types.js";
import {
  createReviewParser,
  decisionResponse,
  internalErrorResponse,
  malformedResponse,
  type ReviewParser,
} from "./review.js";
import type { AdmissionReviewResponse } from "./review-types.js";

export interface AdmissionCoreOptions {
  /**
   * What an internal error in decide() answers: "deny" (fail closed, the default) or "allow".
   * A body that cannot be parsed is always denied.
   */
  readonly onInternalError?: "deny" | "allow";
}

export type ReviewResult =
  | {
      readonly httpStatus: 200;
      readonly body: AdmissionReviewResponse;
      /** Absent when the body could not be judged (malformed, or internal error). */
      readonly decision?: Decision;
      readonly error?: GuardError;
    }
  | {
      /** The body had no usable uid: nothing to address an AdmissionReview to. */
      readonly httpStatus: 400;
      readonly body: { readonly code: string; readonly message: string };
      readonly error: GuardError;
    };

export interface AdmissionCore {
  readonly parseReview: ReviewParser;
  readonly policies: PolicyParser;
  readonly decide: typeof decide;
  /** parse -> decide -> respond. Never throws. */
  review(
    body: unknown,
    policies: readonly GuardPolicy[],
    now: number,
    context?: DecideContext,
  ): ReviewResult;
}

export function createAdmissionCore(options: AdmissionCoreOptions = {}): AdmissionCore {
  const parseReview = createReviewParser();
  const allowOnError = options.onInternalError === "allow";
  return {
    parseReview,
    policies: createPolicyParser(),
    decide,
    review(body, policies, now, context = {}) {
      const parsed = parseReview(body);
      if (!parsed.ok) {
        const { error } = parsed;
        if (parsed.uid === undefined) {
          return { httpStatus: 400, body: { code: error.code, message: error.message }, error };
        }
        const denial = malformedResponse(parsed.uid, error, parsed.apiVersion);
        return { httpStatus: 200, body: denial, error };
      }
      try {
        const decision = decide(parsed.review.request, policies, now, context);
        return { httpStatus: 200, body: decisionResponse(parsed.review, decision), decision };
      } catch (err: unknown) {
        const error = new GuardError(ErrorCodes.ADMISSION_INTERNAL, errorMessage(err), {
          cause: err,
        });
        return {
          httpStatus: 200,
          body: internalErrorResponse(parsed.review, error, allowOnError),
          error,
        };
      }
    },
  };
}
