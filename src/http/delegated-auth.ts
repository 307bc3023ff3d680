/**
 * Who may read the ops port's /metrics and journal, decided as controller-runtime's metrics
 * filter (filters.WithAuthenticationAndAuthorization) decides: the caller's bearer token goes to
 * the API server in a TokenReview, and the user it names must be allowed the request's verb on
 * its path (as ops.ts maps it) by a SubjectAccessReview (nonResourceAttributes). RBAC decides,
 * through ClusterRoles such as the chart's <fullname>-journal-reader. Both reviews go out as the ops server's own
 * identity, which needs create on tokenreviews and subjectaccessreviews and nothing else.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { Request, RequestHandler, Response } from "express";
import { ErrorCodes, errorMessage, type ErrorCode } from "../errors.js";
import type { RestClient } from "../kube/rest.js";
import type { Clock } from "../runtime/clock.js";
import type { Logger } from "../telemetry/log.js";
import { ExpiringCache } from "./expiring-cache.js";

/** client-go's delegating authenticator and authorizer keep their answers this long by default:
 * a scrape every 30 s then costs two API calls, a burst of journal pages none after the first. */
export const REVIEW_TTL_MS = 10_000;
/** Per cache; what a busy ops port sees in 10 s is a handful of callers. */
export const REVIEW_CACHE_ENTRIES = 1024;

export interface DelegatedAuthOptions {
  /** The ops server's own identity; only its REST client is used. */
  readonly kube: { readonly rest: Pick<RestClient, "json"> };
  readonly clock: Clock;
  readonly ttlMs?: number;
  readonly maxEntries?: number;
}

/** Who the API server says a token belongs to (TokenReview status.user). */
export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export interface Decision {
  readonly allowed: boolean;
  /** The authorizer's reason, often empty for a denial. */
  readonly reason: string;
}

interface TokenReviewStatus {
  readonly authenticated?: unknown;
  readonly user?: Record<string, unknown>;
}

interface AccessReviewStatus {
  readonly allowed?: unknown;
  readonly reason?: unknown;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

function extraOf(value: unknown): Record<string, string[]> {
  if (typeof value !== "object" || value === null) return {};
  return Object.fromEntries(Object.entries(value).map(([key, list]) => [key, strings(list)]));
}

/** The user of an authenticated review; undefined when the API server did not vouch for one. */
export function userOf(status: TokenReviewStatus | undefined): UserInfo | undefined {
  const user = status?.user;
  if (status?.authenticated !== true || user === undefined) return undefined;
  const { username, uid } = user;
  if (typeof username !== "string" || username === "") return undefined;
  return {
    username,
    ...(typeof uid === "string" && uid !== "" ? { uid } : {}),
    groups: strings(user["groups"]),
    extra: extraOf(user["extra"]),
  };
}

/**
 * Asks the API server, keeping each answer for ttlMs. Accepted and refused tokens, allowed and
 * denied requests are kept apart, each bounded, so a flood of bad tokens or denied callers
 * cannot push a good scraper's answers out and turn every scrape into API calls.
 */
export class DelegatedAuth {
  private readonly options: DelegatedAuthOptions;
  // Tokens are never kept, only keyed hashes of them: a heap dump of the pod must not hand out
  // the readers' credentials, and a per-process key makes the hashes useless elsewhere.
  private readonly hashKey = randomBytes(32);
  private readonly users: ExpiringCache<UserInfo>;
  private readonly refusedTokens: ExpiringCache<true>;
  private readonly allowed: ExpiringCache<string>;
  private readonly denied: ExpiringCache<string>;

  constructor(options: DelegatedAuthOptions) {
    this.options = options;
    const cache = {
      clock: options.clock,
      ttlMs: options.ttlMs ?? REVIEW_TTL_MS,
      maxEntries: options.maxEntries ?? REVIEW_CACHE_ENTRIES,
    };
    this.users = new ExpiringCache(cache);
    this.refusedTokens = new ExpiringCache(cache);
    this.allowed = new ExpiringCache(cache);
    this.denied = new ExpiringCache(cache);
  }

  /** The token's user, or undefined when the API server does not accept it. Throws when it
   * cannot be asked (unreachable, or the ops identity may not create TokenReviews). */
  async authenticate(token: string): Promise<UserInfo | undefined> {
    const key = createHmac("sha256", this.hashKey).update(token).digest("base64");
    const known = this.users.get(key);
    if (known !== undefined) return known;
    if (this.refusedTokens.get(key) !== undefined) return undefined;
    const review = await this.options.kube.rest.json<{ status?: TokenReviewStatus }>({
      method: "POST",
      path: "/apis/authentication.k8s.io/v1/tokenreviews",
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
    });
    const user = userOf(review.status);
    if (user === undefined) this.refusedTokens.set(key, true);
    else this.users.set(key, user);
    return user;
  }

  /** Whether RBAC lets user do verb on the non-resource path. Throws when it cannot be asked. */
  async authorize(user: UserInfo, path: string, verb: string): Promise<Decision> {
    const key = JSON.stringify([user.username, user.uid, user.groups, user.extra, path, verb]);
    const allowedReason = this.allowed.get(key);
    if (allowedReason !== undefined) return { allowed: true, reason: allowedReason };
    const deniedReason = this.denied.get(key);
    if (deniedReason !== undefined) return { allowed: false, reason: deniedReason };
    const review = await this.options.kube.rest.json<{ status?: AccessReviewStatus }>({
      method: "POST",
      path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: user.username,
          ...(user.uid === undefined ? {} : { uid: user.uid }),
          groups: user.groups,
          extra: user.extra,
          nonResourceAttributes: { path, verb },
        },
      },
    });
    const reason = typeof review.status?.reason === "string" ? review.status.reason : "";
    const allowed = review.status?.allowed === true;
    (allowed ? this.allowed : this.denied).set(key, reason);
    return { allowed, reason };
  }
}

/** The token of "Authorization: Bearer <token>"; undefined for anything else. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^bearer +(\S+) *$/i.exec(header ?? "");
  return match?.[1];
}

interface Refusal {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
  /** Who the token belongs to (a 403): the caller's own name, so a client can say whom to bind. */
  readonly user?: string;
}

function refuse(res: Response, refusal: Refusal): void {
  if (refusal.status === 401) res.set("WWW-Authenticate", 'Bearer realm="gitops-guard"');
  const { status, ...body } = refusal;
  res.status(status).json(body);
}

/**
 * What the request asks, as the API server would put it for a non-resource URL, with the path
 * the filter is mounted at (req.baseUrl, as the request spelt it) replaced by askedAs.
 */
function attributesOf(req: Request, askedAs: string): { path: string; verb: string } | undefined {
  // Express routes absolute-form targets (GET http://host/metrics) too; only a plain path can be
  // asked about, so anything else is refused rather than guessed at.
  const target = req.originalUrl;
  if (!target.startsWith("/")) return undefined;
  const path = target.split("?")[0] ?? target;
  return { path: askedAs + path.slice(req.baseUrl.length), verb: req.method.toLowerCase() };
}

async function check(
  auth: DelegatedAuth,
  req: Request,
  askedAs: string,
): Promise<Refusal | undefined> {
  const token = bearerToken(req.get("authorization"));
  const attributes = attributesOf(req, askedAs);
  if (token === undefined || attributes === undefined) {
    const message = "send a bearer token the Kubernetes API server accepts (Authorization: Bearer)";
    return { status: 401, code: ErrorCodes.OPS_UNAUTHENTICATED, message };
  }
  const user = await auth.authenticate(token);
  if (user === undefined) {
    const message = "the Kubernetes API server did not accept the bearer token";
    return { status: 401, code: ErrorCodes.OPS_UNAUTHENTICATED, message };
  }
  const { path, verb } = attributes;
  const decision = await auth.authorize(user, path, verb);
  if (decision.allowed) return undefined;
  const why = decision.reason === "" ? "" : `: ${decision.reason}`;
  const message = `user "${user.username}" may not ${verb} ${path}${why}`;
  return { status: 403, code: ErrorCodes.OPS_FORBIDDEN, message, user: user.username };
}

export interface FilterOptions {
  readonly auth: DelegatedAuth;
  readonly logger: Logger;
  /** The non-resource path RBAC is asked about for the path the filter is mounted at. */
  readonly askedAs: string;
}

/**
 * Express middleware: 401 without a token or with one the API server refuses, 403 when RBAC
 * denies, 503 when the API server cannot be asked; the request goes on only when allowed. The
 * token never reaches a log line or an answer.
 */
export function delegatedAuthFilter({ auth, logger, askedAs }: FilterOptions): RequestHandler {
  return async (req, res, next) => {
    let refusal: Refusal | undefined;
    try {
      refusal = await check(auth, req, askedAs);
    } catch (err: unknown) {
      // The error names the review's path and the API server's answer, never the request body.
      // The caller learns only that it cannot be checked: the details name the ops identity.
      const path = req.originalUrl.split("?")[0];
      logger.warn({ err: errorMessage(err), path }, "cannot check an ops reader");
      const message = "cannot check the caller with the Kubernetes API server now; try again";
      refuse(res, { status: 503, code: ErrorCodes.OPS_AUTH_UNAVAILABLE, message });
      return;
    }
    if (refusal === undefined) {
      next();
      return;
    }
    refuse(res, refusal);
  };
}
