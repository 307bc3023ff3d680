/**
 * The ops server's app: liveness, readiness and Prometheus metrics. It runs on every replica,
 * plain HTTP, on config.opsListen.
 */
import express, { type Express, type Router } from "express";
import type { Logger } from "../telemetry/log.js";
import type { Metrics } from "../telemetry/metrics.js";
import { errorHandler, notFound, requestTelemetry } from "./middleware.js";

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
