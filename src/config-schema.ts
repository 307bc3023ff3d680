/**
 * The JSON schema of Config (defaults, patterns, limits) and how its errors read. Pure data: no
 * environment is read here (config.ts is the only reader).
 */
import type { ErrorObject } from "ajv";
import { COMPONENTS, LOG_LEVELS } from "./config-types.js";

const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const HTTP_URL = "^https?://[^\\s]+$";
// A webhook's origin: the API server calls webhooks over HTTPS only, and the path is ours.
const HTTPS_ORIGIN = "^https://(\\[[0-9a-fA-F:.]+\\]|[^\\s/?#@:\\[\\]]+)(:[0-9]{1,5})?$";
const ABSOLUTE_PATH_LIST = "^/[^:]*(:/[^:]*)*$";
// Timers hold at most 2^31-1 ms (about 24 days); a longer one would fire at once.
const DAY_SECONDS = 86_400;
const PATTERN_NAMES: Readonly<Record<string, string>> = {
  [HTTP_URL]: "an http:// or https:// URL",
  [HTTPS_ORIGIN]: "https://host or https://host:port, with no path",
  [ABSOLUTE_PATH_LIST]: "absolute folders separated by ':'",
  [DNS_LABEL]: "a DNS-1123 label (lower-case letters, digits and '-', at most 63)",
  [DNS_SUBDOMAIN]: "a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')",
};

function count(minimum: number, maximum: number, d: number): object {
  return { type: "integer", minimum, maximum, default: d };
}

export function schema(): object {
  const text = (pattern: string, maxLength: number, d: string): object => {
    return { type: "string", pattern, maxLength, default: d };
  };
  const seconds = (d: number): object => count(1, DAY_SECONDS, d);
  const listen = (d: string): object => ({ type: "string", format: "host-port", default: d });
  const closed = (properties: object): object => {
    return { type: "object", additionalProperties: false, properties, default: {} };
  };
  const components = { type: "array", items: { type: "string", enum: COMPONENTS } };
  const properties = {
    kubeconfig: { type: "array", items: { type: "string", minLength: 1 }, minItems: 1 },
    components: { ...components, minItems: 1, uniqueItems: true, default: [...COMPONENTS] },
    namespace: text(DNS_LABEL, 63, "gitops-guard-system"),
    webhookListen: listen("0.0.0.0:9443"),
    opsListen: listen("0.0.0.0:8080"),
    stateDir: { type: "string", minLength: 1, default: "/var/lib/gitops-guard" },
    logLevel: { type: "string", enum: LOG_LEVELS, default: "info" },
    identity: { type: "string", minLength: 1, maxLength: 253 },
    leaderElection: closed({
      enabled: { type: "boolean", default: true },
      leaseName: text(DNS_SUBDOMAIN, 253, "gitops-guard-controller"),
      leaseDurationSeconds: seconds(15),
      renewDeadlineSeconds: seconds(10),
      retryPeriodSeconds: seconds(2),
    }),
    impersonate: { type: "boolean" },
    bitnamiSealedSecrets: { type: "boolean", default: false },
    unsealThreads: count(0, 64, 2),
    kubeHttp2: { type: "boolean", default: true },
    auditWebhook: {
      ...closed({
        listen: { type: "string", format: "host-port" },
        certFile: { type: "string", minLength: 1 },
        keyFile: { type: "string", minLength: 1 },
        tokenFile: { type: "string", minLength: 1 },
      }),
      // Served only with TLS and a token: audit events decide who is named in the journal.
      dependencies: { listen: ["certFile", "keyFile", "tokenFile"] },
    },
    sopsKms: closed({
      endpoint: { type: "string", pattern: HTTP_URL },
      stsEndpoint: { type: "string", pattern: HTTP_URL },
      ambientCredentials: { type: "boolean", default: false },
    }),
    defaultServiceAccount: { type: "string", pattern: DNS_SUBDOMAIN, maxLength: 253 },
    allowFileUrls: { type: "boolean", default: false },
    serviceAccounts: closed({
      reconciler: text(DNS_SUBDOMAIN, 253, "gitops-guard-reconciler"),
      secrets: text(DNS_SUBDOMAIN, 253, "gitops-guard-secrets"),
      webhook: text(DNS_SUBDOMAIN, 253, "gitops-guard-webhook"),
    }),
    reconciler: closed({
      workers: count(1, 64, 4),
      // API requests one sync keeps in flight (applies, prunes, health reads).
      applyConcurrency: count(1, 64, 8),
      // Objects self-heal repairs at once.
      healWorkers: count(1, 64, 4),
      gitTimeoutSeconds: seconds(120),
      // PATH for git, ssh, kustomize and helm: never the process's own environment.
      toolsPath: {
        type: "string",
        pattern: ABSOLUTE_PATH_LIST,
        minLength: 1,
        maxLength: 4096,
        default: "/usr/local/bin:/usr/bin:/bin",
      },
      // A loop takes at least two heals; the tracker keeps this many heals per object.
      healLoopThreshold: count(2, 100, 3),
      healLoopWindowSeconds: seconds(60),
      healBackoffSeconds: seconds(2),
      healBackoffCapSeconds: seconds(300),
    }),
    secrets: closed({
      workers: count(1, 64, 8),
      // Ten years at most; 0 turns renewal off.
      keyRenewPeriodHours: count(0, 87_600, 720),
    }),
    watchNamespace: { type: "string", pattern: DNS_LABEL, maxLength: 63 },
    webhookUrl: { type: "string", pattern: HTTPS_ORIGIN, maxLength: 2048 },
  };
  const required = ["components", "identity", "impersonate"];
  return { type: "object", additionalProperties: false, properties, required };
}

// Number limits read as words: "must be at least 1" rather than ajv's "must be >= 1".
const LIMIT_WORDS: Readonly<Record<string, string>> = { minimum: "least", maximum: "most" };

export function describeAjvError(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const limit = LIMIT_WORDS[error.keyword];
  if (limit !== undefined) return `must be at ${limit} ${String(params.limit)}`;
  switch (error.keyword) {
    case "enum":
      return `must be one of ${(params.allowedValues as unknown[]).join(", ")}`;
    case "uniqueItems":
      return "must not name an item twice";
    case "minLength":
    case "minItems":
      return "must not be empty";
    case "format":
      return "must be host:port with a port in 0-65535";
    case "pattern":
      return `must be ${PATTERN_NAMES[String(params.pattern)] ?? `like ${String(params.pattern)}`}`;
    default:
      return error.message ?? "is invalid";
  }
}
