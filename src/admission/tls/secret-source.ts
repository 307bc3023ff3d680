/**
 * Self-managed TLS: the CA and serving certificate live in one Secret in gitops-guard's own
 * namespace, so every replica serves a certificate the same CA bundle trusts. Replicas race
 * safely: creation and renewal are optimistic (create, or replace at the read
 * resourceVersion); the loser of a race re-reads and takes the winner's certificates.
 */
import { ErrorCodes, GuardError, isGuardError } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import type { KubeObject } from "../../kube/objects.js";
import type { Clock } from "../../runtime/clock.js";
import type { Logger } from "../../telemetry/log.js";
import { DEFAULT_RENEWAL, planBundle, type RenewalPolicy, type TlsBundle } from "./bundle.js";
import type { ServingMaterial, TlsSource } from "./source.js";

export const SECRET_KEYS = {
  caBundle: "ca.crt",
  caKey: "ca.key",
  cert: "tls.crt",
  key: "tls.key",
} as const;

const MAX_ATTEMPTS = 5;
const CHECK_INTERVAL_MS = 3_600_000;

export interface SecretSourceOptions {
  readonly kube: KubeClient;
  readonly namespace: string;
  readonly name: string;
  /** DNS names and IP addresses the serving certificate must cover. */
  readonly hosts: readonly string[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly renewal?: RenewalPolicy;
  readonly checkIntervalMs?: number;
}

interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

function decode(data: Record<string, string> | undefined, key: string): string {
  const value = data?.[key];
  return value === undefined ? "" : Buffer.from(value, "base64").toString("utf8");
}

export function bundleFromSecret(secret: SecretObject | undefined): TlsBundle | undefined {
  if (secret === undefined) return undefined;
  const data = secret.data;
  return {
    caBundle: decode(data, SECRET_KEYS.caBundle),
    caKey: decode(data, SECRET_KEYS.caKey),
    cert: decode(data, SECRET_KEYS.cert),
    key: decode(data, SECRET_KEYS.key),
  };
}

function secretData(bundle: TlsBundle): Record<string, string> {
  const encode = (text: string): string => Buffer.from(text, "utf8").toString("base64");
  return {
    [SECRET_KEYS.caBundle]: encode(bundle.caBundle),
    [SECRET_KEYS.caKey]: encode(bundle.caKey),
    [SECRET_KEYS.cert]: encode(bundle.cert),
    [SECRET_KEYS.key]: encode(bundle.key),
  };
}

function material(bundle: TlsBundle): ServingMaterial {
  return { cert: bundle.cert, key: bundle.key, caBundle: bundle.caBundle };
}

/** Lost a race with another replica: re-read and try again. */
function raced(err: unknown): boolean {
  return isGuardError(err, ErrorCodes.KUBE_CONFLICT);
}

export function secretTlsSource(options: SecretSourceOptions): TlsSource {
  const { kube, namespace, name, logger } = options;
  const ref = { apiVersion: "v1", kind: "Secret", namespace, name };
  const write = async (existing: SecretObject | undefined, bundle: TlsBundle): Promise<void> => {
    const secret: SecretObject = {
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/tls",
      metadata: {
        ...(existing?.metadata ?? {}),
        name,
        namespace,
        labels: { ...existing?.metadata.labels, "app.kubernetes.io/managed-by": "gitops-guard" },
      },
      data: secretData(bundle),
    };
    if (existing === undefined) await kube.create(secret);
    else await kube.replace(secret);
  };
  const attempt = async (): Promise<ServingMaterial | undefined> => {
    const existing = await kube.get<SecretObject>(ref);
    const plan = planBundle(
      bundleFromSecret(existing),
      options.hosts,
      options.clock.now(),
      options.renewal ?? DEFAULT_RENEWAL,
    );
    if (plan.change === undefined) return material(plan.bundle);
    try {
      await write(existing, plan.bundle);
    } catch (err: unknown) {
      if (raced(err)) return undefined;
      throw err;
    }
    logger.info(
      { secret: `${namespace}/${name}`, change: plan.change },
      "webhook certificate written",
    );
    return material(plan.bundle);
  };
  return {
    mode: "self-managed",
    checkIntervalMs: options.checkIntervalMs ?? CHECK_INTERVAL_MS,
    async load() {
      for (let i = 0; i < MAX_ATTEMPTS; i++) {
        const loaded = await attempt();
        if (loaded !== undefined) return loaded;
      }
      throw new GuardError(
        ErrorCodes.TLS_INVALID,
        `the webhook certificate Secret ${namespace}/${name} kept changing under us (${MAX_ATTEMPTS} attempts)`,
      );
    },
  };
}
