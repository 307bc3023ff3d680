/**
 * The webhook without a cluster (`gitops-guard webhook`): POST /validate judged by the
 * GuardPolicies of a file, over HTTPS with the given certificate (re-read when it changes).
 * No informers, no Events, no Kubernetes client: decide() gets what the file holds and
 * nothing else (no inventory, no namespace labels). For local testing and CI.
 */
import { readFile } from "node:fs/promises";
import { ErrorCodes, GuardError, errorMessage } from "../errors.js";
import { startServer, type RunningServer } from "../http/server.js";
import type { Clock } from "../runtime/clock.js";
import type { Logger } from "../telemetry/log.js";
import type { Metrics } from "../telemetry/metrics.js";
import { createAdmissionCore } from "./core.js";
import type { PolicyParser } from "./policy.js";
import type { GuardPolicy } from "./policy-types.js";
import { admissionMetrics } from "./metrics.js";
import { BUNDLED_NAMESPACE } from "../presets/reconcilers.js";
import { createAdmissionApp } from "./router.js";
import { fileTlsSource } from "./tls/file-source.js";
import { keepTlsFresh } from "./tls/reload.js";

export interface StandaloneOptions {
  readonly policyFiles: readonly string[];
  readonly listen: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly ownNamespace?: string;
  readonly onInternalError?: "deny" | "allow";
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

export interface StandaloneWebhook {
  readonly server: RunningServer;
  /** The number of GuardPolicies in force. */
  readonly policies: number;
  /** Serves until signal aborts, re-reading the certificate files meanwhile; then closes. */
  run(signal: AbortSignal): Promise<void>;
}

async function readPolicyFile(file: string, parser: PolicyParser): Promise<GuardPolicy[]> {
  try {
    return parser.parseYaml(await readFile(file, "utf8"));
  } catch (err: unknown) {
    const message = `--policy ${file}: ${errorMessage(err)}`;
    throw new GuardError(ErrorCodes.POLICY_INVALID, message, { cause: err });
  }
}

async function readPolicies(files: readonly string[]): Promise<GuardPolicy[]> {
  const parser = createAdmissionCore().policies;
  const all: GuardPolicy[] = [];
  for (const file of files) all.push(...(await readPolicyFile(file, parser)));
  if (all.length === 0) {
    throw new GuardError(ErrorCodes.POLICY_INVALID, `no GuardPolicy in ${files.join(", ")}`);
  }
  return all;
}

/** Reads the policies and certificate and starts listening; run() then serves until stopped. */
export async function startStandaloneWebhook(
  options: StandaloneOptions,
): Promise<StandaloneWebhook> {
  const policies = await readPolicies(options.policyFiles);
  const source = fileTlsSource({ cert: options.tlsCert, key: options.tlsKey });
  const material = await source.load();
  const core = createAdmissionCore(
    options.onInternalError === undefined ? {} : { onInternalError: options.onInternalError },
  );
  const context = { ownNamespace: options.ownNamespace ?? BUNDLED_NAMESPACE };
  const app = createAdmissionApp({
    core,
    view: () => ({ policies, context }),
    clock: options.clock,
    logger: options.logger,
    metrics: options.metrics,
    admission: admissionMetrics(options.metrics.registry),
  });
  const server = await startServer({
    app,
    listen: options.listen,
    tls: material,
    logger: options.logger,
    clock: options.clock,
  });
  return {
    server,
    policies: policies.length,
    async run(signal) {
      try {
        await keepTlsFresh(
          { source, server, clock: options.clock, logger: options.logger, current: material },
          signal,
        );
      } finally {
        await server.close();
      }
    },
  };
}
