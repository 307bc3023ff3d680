/**
 * POST /hooks/git: a push from GitHub, GitLab or any sender that signs with HMAC syncs the
 * GitSyncs that follow the pushed repository and ref at once, instead of at their next
 * interval. It does so by setting their gitops-guard.io/requested-at annotation, so any
 * replica may take the push and the leader's reconciler acts on it (level-triggered: a push
 * that arrives during a restart is not lost).
 *   202 {"synced": ["ns/name", ...]}   verified; those GitSyncs will sync now
 *   200                                 a ping, or an event that is not a push
 *   400 bad payload, 401 bad or missing signature, 503 push not configured
 * Answers never say which GitSyncs exist to a sender that cannot sign.
 */
import express, { type Request, type Response, type Router } from "express";
import type { Counter } from "prom-client";
import { ErrorCodes, errorMessage, isGuardError } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import type { Clock } from "../../runtime/clock.js";
import type { Logger } from "../../telemetry/log.js";
import { parseGitSyncSpec, type GitSyncObject } from "../gitsync.js";
import { GITSYNC, REQUESTED_AT_ANNOTATION } from "../names.js";
import { followsPush } from "./match.js";
import { parsePush, type PushEvent } from "./payload.js";
import { readPushSecrets } from "./secrets.js";
import { verifyPush, type Headers } from "./signature.js";

export const PUSH_PATH = "/hooks/git";
// GitHub caps payloads at 25 MB; a push of a few commits is kilobytes.
const BODY_LIMIT = "5mb";

export interface PushDeps {
  readonly kube: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly secret: { readonly namespace: string; readonly name: string };
  readonly pushes: Counter<"provider" | "outcome">;
}

function headersOf(req: Request): Headers {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (typeof v === "string") out[k] = v;
  }
  return out;
}

function skipUnparsable(obj: GitSyncObject): ReturnType<typeof parseGitSyncSpec> | undefined {
  try {
    return parseGitSyncSpec(obj);
  } catch {
    return undefined;
  }
}

/** Annotates every GitSync that follows the push; returns their namespace/name. */
async function requestSyncs(
  deps: PushDeps,
  push: Extract<PushEvent, { kind: "push" }>,
): Promise<string[]> {
  const { items } = await deps.kube.list<GitSyncObject>(GITSYNC);
  const followers = items.filter((obj) => {
    const spec = skipUnparsable(obj);
    return spec !== undefined && !spec.suspend && followsPush(spec, push);
  });
  const requestedAt = new Date(deps.clock.now()).toISOString();
  const synced: string[] = [];
  for (const obj of followers) {
    const { namespace = "", name = "" } = obj.metadata;
    await deps.kube.mergePatch(
      { ...GITSYNC, namespace, name },
      { metadata: { annotations: { [REQUESTED_AT_ANNOTATION]: `push ${requestedAt}` } } },
    );
    synced.push(`${namespace}/${name}`);
  }
  return synced;
}

function statusOf(err: unknown): number {
  if (isGuardError(err, ErrorCodes.PUSH_PAYLOAD_INVALID)) return 400;
  if (isGuardError(err, ErrorCodes.PUSH_NOT_CONFIGURED)) return 503;
  return 500;
}

async function handle(deps: PushDeps, req: Request, res: Response): Promise<void> {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const headers = headersOf(req);
  const verdict = verifyPush(headers, body, await readPushSecrets(deps.kube, deps.secret));
  if (!verdict.ok) {
    deps.pushes.inc({ provider: verdict.provider, outcome: "refused" });
    deps.logger.warn({ provider: verdict.provider, reason: verdict.reason }, "push refused");
    res.status(401).json({
      code: ErrorCodes.PUSH_SIGNATURE_INVALID,
      message: "push refused: " + verdict.reason,
    });
    return;
  }
  const push = parsePush(verdict.provider, verdict.event, body);
  if (push.kind !== "push") {
    deps.pushes.inc({ provider: verdict.provider, outcome: push.kind });
    res.status(200).json({ event: push.event, synced: [] });
    return;
  }
  const synced = await requestSyncs(deps, push);
  deps.pushes.inc({
    provider: verdict.provider,
    outcome: synced.length > 0 ? "synced" : "unmatched",
  });
  deps.logger.info(
    { provider: verdict.provider, ref: push.ref, commit: push.commit, gitSyncs: synced },
    "push received",
  );
  res.status(202).json({ synced });
}

export function pushRouter(deps: PushDeps): Router {
  const router = express.Router();
  router.post(PUSH_PATH, express.raw({ type: () => true, limit: BODY_LIMIT }), (req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      const status = statusOf(err);
      const code = isGuardError(err) ? err.code : ErrorCodes.INTERNAL;
      if (status === 500) deps.logger.error({ err: errorMessage(err) }, "push failed");
      deps.pushes.inc({ provider: "unknown", outcome: "error" });
      res.status(status).json({ code, message: errorMessage(err) });
    });
  });
  return router;
}
