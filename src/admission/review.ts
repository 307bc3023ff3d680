/**
 * AdmissionReview v1 in and out. Parsing never trusts the body: text or an already-parsed value
 * goes through JSON.parse (when text) and ajv, and a failure is a GuardError with a stable code
 * that the response builders turn into a denial, never an allow.
 */
import { Ajv, type ValidateFunction } from "ajv";
import { ErrorCodes, GuardError, errorMessage } from "../errors.js";
import type { Decision } from "./decision.js";
import { ADMISSION_REVIEW_SCHEMA } from "./review-schema.js";
import {
  ADMISSION_API_VERSION,
  type AdmissionResponse,
  type AdmissionReviewRequest,
  type AdmissionReviewResponse,
} from "./review-types.js";
import { describeErrors } from "./schema-errors.js";

export type ParseResult =
  | { readonly ok: true; readonly review: AdmissionReviewRequest }
  | {
      readonly ok: false;
      readonly error: GuardError;
      /** request.uid when the body had a usable one: the denial can then be addressed. */
      readonly uid?: string;
      /** The AdmissionReview version to answer in, when the body named a known one. */
      readonly apiVersion?: string;
    };

export type ReviewParser = (body: unknown) => ParseResult;

const MAX_PROBLEMS = 5;
const ANSWERABLE_VERSIONS: ReadonlySet<string> = new Set(["admission.k8s.io/v1beta1"]);

export function createReviewParser(): ReviewParser {
  const ajv = new Ajv({ allErrors: false, verbose: true, strict: true, allowUnionTypes: true });
  const validate = ajv.compile<AdmissionReviewRequest>(ADMISSION_REVIEW_SCHEMA);
  return (body) => parseWith(validate, body);
}

function decodeBody(body: unknown): { value: unknown } | { error: GuardError } {
  const text = body instanceof Uint8Array ? new TextDecoder().decode(body) : body;
  if (typeof text !== "string") return { value: text };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err: unknown) {
    const message = `AdmissionReview body is not JSON: ${errorMessage(err)}`;
    return { error: new GuardError(ErrorCodes.ADMISSION_REVIEW_NOT_JSON, message) };
  }
}

function parseWith(validate: ValidateFunction<AdmissionReviewRequest>, body: unknown): ParseResult {
  const decoded = decodeBody(body);
  if ("error" in decoded) return { ok: false, error: decoded.error };
  const { value } = decoded;
  if (validate(value)) return { ok: true, review: value };
  const uid = uidOf(value);
  const version = apiVersionOf(value);
  if (
    version !== undefined &&
    version !== ADMISSION_API_VERSION &&
    version.startsWith("admission")
  ) {
    const error = new GuardError(
      ErrorCodes.ADMISSION_REVIEW_UNSUPPORTED_VERSION,
      `AdmissionReview ${version} is not supported: configure admissionReviewVersions: [v1]`,
    );
    // Answered in the version it came in, or the API server would not read the denial.
    const echo = ANSWERABLE_VERSIONS.has(version) ? { apiVersion: version } : {};
    return uid === undefined ? { ok: false, error } : { ok: false, error, uid, ...echo };
  }
  const problems = describeErrors(validate.errors ?? []).slice(0, MAX_PROBLEMS);
  const error = new GuardError(
    ErrorCodes.ADMISSION_REVIEW_INVALID,
    `malformed AdmissionReview: ${problems.join("; ")}`,
    { details: { problems } },
  );
  return uid === undefined ? { ok: false, error } : { ok: false, error, uid };
}

function field(value: unknown, key: string): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

function apiVersionOf(value: unknown): string | undefined {
  const v = field(value, "apiVersion");
  return typeof v === "string" ? v : undefined;
}

/** request.uid of a body that failed validation, if it is a plausible uid. */
function uidOf(value: unknown): string | undefined {
  const uid = field(field(value, "request"), "uid");
  return typeof uid === "string" && uid.length > 0 && uid.length <= 256 ? uid : undefined;
}

const WARNING_MAX = 120;

/** Warnings become HTTP Warning headers: short, printable, at most 120 characters each. */
function cleanWarnings(warnings: readonly string[]): string[] {
  return warnings.map((w) => {
    const printable = w.replace(/[^\x20-\x7e]/g, "?");
    return printable.length > WARNING_MAX ? `${printable.slice(0, WARNING_MAX - 3)}...` : printable;
  });
}

function wrap(
  response: AdmissionResponse,
  apiVersion: string = ADMISSION_API_VERSION,
): AdmissionReviewResponse {
  return { apiVersion, kind: "AdmissionReview", response };
}

/** The AdmissionReview answering review with decision: uid echoed, 403 on deny. */
export function decisionResponse(
  review: AdmissionReviewRequest,
  decision: Decision,
): AdmissionReviewResponse {
  const allowed = decision.effect !== "deny";
  const warnings = cleanWarnings(decision.warnings);
  const annotations = decision.auditAnnotations;
  return wrap({
    uid: review.request.uid,
    allowed,
    ...(allowed ? {} : { status: { code: 403, reason: "Forbidden", message: decision.message } }),
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(Object.keys(annotations).length > 0 ? { auditAnnotations: annotations } : {}),
  });
}

/** A denial for a body that could not be judged, addressed to uid. */
export function malformedResponse(
  uid: string,
  error: GuardError,
  apiVersion: string = ADMISSION_API_VERSION,
): AdmissionReviewResponse {
  const message = `gitops-guard: ${error.message}`;
  return wrap(
    {
      uid,
      allowed: false,
      status: { code: 400, reason: "BadRequest", message },
      auditAnnotations: { error: error.code },
    },
    apiVersion,
  );
}

/** A denial (or, by the operator's choice, an allow) after an internal error. */
export function internalErrorResponse(
  review: AdmissionReviewRequest,
  error: GuardError,
  allow: boolean,
): AdmissionReviewResponse {
  const message = `gitops-guard: internal error (${error.code}): ${error.message}`;
  return wrap({
    uid: review.request.uid,
    allowed: allow,
    ...(allow
      ? { warnings: cleanWarnings([message]) }
      : { status: { code: 500, reason: "InternalError", message } }),
    auditAnnotations: { error: error.code },
  });
}
