/**
 * Runs the secrets component against the real API server as the gitops-guard-secrets service
 * account, behind the Lease as main.ts runs it, with its endpoints on a loopback server, and
 * keeps everything it logged.
 */
import express from "express";
import { onTestFinished } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { readSecret, sealSecret } from "../../src/crypto/sealing/seal.js";
import { parseCertificate } from "../../src/crypto/sealing/certificate.js";
import { startServer } from "../../src/http/server.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { createServices, runComponents } from "../../src/main.js";
import {
  createSecretsComponent,
  type SecretsComponent,
  type SecretsOptions,
} from "../../src/secrets/component.js";
import { envtest, eventually } from "../envtest/context.js";
import { sink, type LogSink } from "../helpers/log-sink.js";

export interface Controller {
  readonly component: SecretsComponent;
  readonly config: Config;
  /** Where /v1/cert.pem, /v1/verify and /v1/rotate are served. */
  readonly url: string;
  readonly logs: LogSink;
  /** The Prometheus exposition text of the controller's registry. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

export function configFor(namespace: string, identity: string): Config {
  return loadConfig({
    flags: {
      kubeconfig: envtest().kubeconfigs.secrets,
      opsListen: "127.0.0.1:0",
      namespace,
      identity,
    },
    env: {
      GITOPS_GUARD_LEADER_ELECTION_LEASE_DURATION_SECONDS: "4",
      GITOPS_GUARD_LEADER_ELECTION_RENEW_DEADLINE_SECONDS: "3",
      GITOPS_GUARD_LEADER_ELECTION_RETRY_PERIOD_SECONDS: "1",
    },
    hostname: "test-host",
  });
}

/** Starts a controller whose namespace (keys, Lease) and watch scope are `namespace`. */
export async function startController(
  namespace: string,
  opts: { identity?: string; options?: SecretsOptions; logs?: LogSink; listen?: string } = {},
): Promise<Controller> {
  const config = configFor(namespace, opts.identity ?? "replica-1");
  const logs = opts.logs ?? sink();
  const services = createServices(config, { logDestination: logs.stream });
  const component = createSecretsComponent(
    { ...services, config, logger: services.logger.child({ component: "secrets" }) },
    { watchNamespace: namespace, keyBits: 2048, ...opts.options },
  );
  const app = express();
  app.use(component.routes());
  const server = await startServer({
    app,
    listen: opts.listen ?? "127.0.0.1:0",
    logger: services.logger,
  });
  const abort = new AbortController();
  const running = runComponents(config, services, [component], { signal: abort.signal });
  return {
    component,
    config,
    url: server.url,
    logs,
    metrics: () => services.metrics.text(),
    async stop() {
      abort.abort();
      await running;
      await server.close();
    },
  };
}

/**
 * A ready controller for the current test, stopped when the test ends. Its stop() may come
 * first (a restart); the end of the test then does not stop it twice.
 */
export async function readyController(namespace: string): Promise<Controller> {
  const c = await startController(namespace);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= c.stop());
  onTestFinished(stop);
  const ready = { ...c, stop };
  await waitReady(ready);
  return ready;
}

export async function waitReady(c: Controller): Promise<void> {
  await eventually("the controller to be ready", () =>
    Object.values(c.component.readiness()).every(Boolean),
  );
}

export async function fetchCert(c: Controller): Promise<string> {
  const res = await fetch(`${c.url}/v1/cert.pem`);
  if (res.status !== 200) throw new Error(`cert.pem: ${res.status} ${await res.text()}`);
  return res.text();
}

/** A SealedSecret for namespace/name holding items, sealed for the certificate. */
export function sealedSecret(
  certPem: string,
  where: { namespace: string; name: string },
  items: Record<string, string>,
  extra: Record<string, unknown> = {},
): KubeObject {
  const doc = { apiVersion: "v1", kind: "Secret", metadata: where, stringData: items, ...extra };
  const { publicKey } = parseCertificate(certPem, "cert");
  return JSON.parse(
    JSON.stringify(sealSecret(readSecret(doc, "test"), { publicKey })),
  ) as KubeObject;
}

export function decoded(secret: KubeObject | undefined): Record<string, string> {
  const data = (secret?.["data"] ?? {}) as Record<string, string>;
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
  );
}
