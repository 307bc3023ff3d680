/**
 * The controller's HTTP endpoints, as Bitnami's controller serves them, so kubeseal's
 * --fetch-cert, --validate and --re-encrypt work through the API server's service proxy:
 *   GET  /healthz       200 "ok"
 *   GET  /v1/cert.pem   the newest key's certificate (application/x-pem-file)
 *   POST /v1/verify     body a SealedSecret: 200 when it opens, 409 when not (rate-limited)
 *   POST /v1/rotate     body a SealedSecret: the same, re-encrypted with the newest key
 * Answers never carry a value; a 409 carries the explanation of why it does not open.
 */
import express, { type Request, type Response, type Router } from "express";
import { parseAllDocuments } from "yaml";
import type { Keyring } from "../crypto/sealing/keyring.js";
import { reencryptSealedSecret } from "../crypto/sealing/reencrypt.js";
import { readSealedSecret, type SealedSecret } from "../crypto/sealing/sealed-secret.js";
import { unsealSealedSecret } from "../crypto/sealing/unseal.js";
import { ErrorCodes, GuardError, errorMessage, isGuardError } from "../errors.js";
import type { Clock } from "../runtime/clock.js";

export interface RoutesDeps {
  /** The keys to use; rejects when none can be had. */
  readonly keyring: () => Promise<Keyring>;
  readonly clock: Clock;
  /** /v1/verify requests per second per client (Bitnami: 2, burst 2). */
  readonly verifyRate?: { readonly perSecond: number; readonly burst: number };
}

const BODY_LIMIT = "2mb";

function parseBody(body: unknown): SealedSecret {
  const text = typeof body === "string" ? body : "";
  const invalid = (why: string): GuardError =>
    new GuardError(ErrorCodes.SECRETS_REQUEST_INVALID, `the request body ${why}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch {
    const docs = parseAllDocuments(text, { version: "1.1" });
    const list = Array.isArray(docs) ? docs : [docs];
    if (list.length !== 1) throw invalid("must hold exactly one SealedSecret");
    const [first] = list;
    if (first === undefined || first.errors.length > 0) throw invalid("is not JSON or YAML");
    doc = first.toJS({ maxAliasCount: 100 }) as unknown;
  }
  return readSealedSecret(doc, "the request body");
}

function sendError(res: Response, status: number, err: unknown): void {
  const code = isGuardError(err) ? err.code : ErrorCodes.INTERNAL;
  res.status(status).json({ code, message: errorMessage(err) });
}

/** A token bucket per client (path + X-Forwarded-For, as Bitnami keys it). */
function rateLimiter(
  clock: Clock,
  rate: { perSecond: number; burst: number },
): (req: Request) => boolean {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (req) => {
    const who = `${req.path}|${req.get("x-forwarded-for") ?? req.ip ?? ""}`;
    const now = clock.now();
    const bucket = buckets.get(who) ?? { tokens: rate.burst, at: now };
    bucket.tokens = Math.min(
      rate.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * rate.perSecond,
    );
    bucket.at = now;
    if (buckets.size > 10_000) buckets.clear();
    buckets.set(who, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };
}

async function certificate(deps: RoutesDeps, res: Response): Promise<void> {
  const pem = (await deps.keyring()).latest()?.certificatePem;
  if (pem === undefined) throw new GuardError(ErrorCodes.SECRETS_NO_KEY, "no sealing key is held");
  res.type("application/x-pem-file").send(pem);
}

async function verify(deps: RoutesDeps, req: Request, res: Response): Promise<void> {
  const ss = parseBody(req.body);
  const keyring = await deps.keyring();
  try {
    unsealSealedSecret(ss, { keyring });
  } catch (err: unknown) {
    if (!(err instanceof GuardError)) throw err;
    sendError(res, 409, err);
    return;
  }
  res.type("text/plain").send("ok\n");
}

async function rotate(deps: RoutesDeps, req: Request, res: Response): Promise<void> {
  const ss = parseBody(req.body);
  const keyring = await deps.keyring();
  const newest = keyring.latest();
  if (newest === undefined) {
    throw new GuardError(ErrorCodes.SECRETS_NO_KEY, "no sealing key is held");
  }
  res.json(reencryptSealedSecret(ss, newest.publicKey, { keyring }));
}

type Handler = (req: Request, res: Response) => Promise<void>;

function guarded(handler: Handler): (req: Request, res: Response) => void {
  return (req, res) => {
    handler(req, res).catch((err: unknown) => {
      const bad =
        isGuardError(err, ErrorCodes.SECRETS_REQUEST_INVALID) ||
        isGuardError(err, ErrorCodes.UNSEAL_INPUT_INVALID);
      sendError(res, bad ? 400 : 500, err);
    });
  };
}

export function secretsRouter(deps: RoutesDeps): Router {
  const router = express.Router();
  const allow = rateLimiter(deps.clock, deps.verifyRate ?? { perSecond: 2, burst: 2 });
  const body = express.text({ type: () => true, limit: BODY_LIMIT });
  router.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok\n");
  });
  router.get(
    "/v1/cert.pem",
    guarded((_req, res) => certificate(deps, res)),
  );
  router.post(
    "/v1/verify",
    body,
    guarded(async (req, res) => {
      if (!allow(req)) {
        res.status(429).json({ code: "GG_HTTP_429", message: "too many requests" });
        return;
      }
      await verify(deps, req, res);
    }),
  );
  router.post(
    "/v1/rotate",
    body,
    guarded((req, res) => rotate(deps, req, res)),
  );
  return router;
}
