/**
 * The ops server's app: liveness, readiness and Prometheus metrics. It runs on every replica,
 * plain HTTP, on config.opsListen.
 */
import express, { type Express, type Router } from "express";
import type { Logger } from "../telemetry/log.js";
import type { Metrics } from "../telemetry/metrics.js";
import { DelegatedAuth, delegatedAuthFilter, type DelegatedAuthOptions } from "./delegated-auth.js";
import { errorHandler, notFound, requestTelemetry } from "./middleware.js";

/**
 * What only a caller the API server vouches for, and RBAC lets `get` the path, may read: the
 * metrics (they name namespaces, GitSyncs and users' activity) and the journal (who changed
 * what). Each covers the path and everything under it, matched as express routes, so nothing
 * mounted below them is reachable around the check. The rest stays open on purpose: probes,
 * the status page and kubeseal's /v1/* are reached through the API server's service proxy,
 * which does not pass the caller's token on, and the Git push webhook checks its own HMAC.
 *
 * Each served path maps to the non-resource path RBAC is asked about. /metrics is asked as
 * itself, as controller-runtime does, so a Prometheus role that grants it works unchanged. The
 * journal is not: the built-in ClusterRole system:discovery lets every authenticated user get
 * /api/*, so asking about /api/v1/journal would let anyone with a token in.
 */
export const PROTECTED_PATHS: Readonly<Record<string, string>> = {
  "/metrics": "/metrics",
  "/api/v1/journal": "/gitops-guard/api/v1/journal",
};

export interface Readiness {
  readonly ready: boolean;
  /** Named checks, e.g. { "informer/secrets": true, "leader": false }. */
  readonly checks: Readonly<Record<string, boolean>>;
}

export interface OpsAppOptions {
  readonly metrics: Metrics;
  readonly readiness: () => Readiness;
  readonly logger: Logger;
  /** Components' own read-only endpoints, such as the auditor's /api/v1/journal. */
  readonly routers?: readonly Router[];
  /**
   * How PROTECTED_PATHS check their callers: TokenReview and SubjectAccessReview as the given
   * identity. "unauthenticated" serves them to anyone who reaches the port (tests of what is
   * served, not of who may read it).
   */
  readonly auth: DelegatedAuthOptions | "unauthenticated";
}

export interface ReadyzBody extends Readiness {
  /** Names of the checks that are false. */
  readonly failing: readonly string[];
}

export function createOpsApp(options: OpsAppOptions): Express {
  const { metrics, readiness, logger } = options;
  const app = express();
  app.disable("x-powered-by");
  app.use(
    requestTelemetry({
      server: "ops",
      metrics,
      logger,
      quietPaths: ["/healthz", "/readyz", "/metrics"],
    }),
  );
  if (options.auth !== "unauthenticated") {
    const auth = new DelegatedAuth(options.auth);
    for (const [served, askedAs] of Object.entries(PROTECTED_PATHS)) {
      app.use(served, delegatedAuthFilter({ auth, logger, askedAs }));
    }
  }
  // Liveness says only that the event loop answers; dependencies belong to /readyz, or a
  // slow API server would get every replica restarted.
  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok");
  });
  app.get("/readyz", (_req, res) => {
    const { ready, checks } = readiness();
    const failing = Object.entries(checks)
      .filter(([, ok]) => !ok)
      .map(([name]) => name);
    const body: ReadyzBody = { ready, failing, checks };
    res.status(ready ? 200 : 503).json(body);
  });
  app.get("/metrics", async (_req, res) => {
    const text = await metrics.text();
    res.set("Content-Type", metrics.contentType).send(text);
  });
  for (const router of options.routers ?? []) app.use(router);
  app.use(notFound());
  app.use(errorHandler(logger));
  return app;
}
