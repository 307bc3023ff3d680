/**
 * The only reader of the environment. Flags, environment and defaults become one typed,
 * validated, deep-frozen Config; every other module receives what it needs from it.
 * Precedence: flag > env > default. Any invalid value is reported with where it came from.
 */
import { createRequire } from "node:module";
import type * as AjvModule from "ajv";
import type { ErrorObject } from "ajv";
import { ErrorCodes, GuardError } from "./errors.js";
import { parseHostPort } from "./http/address.js";

import { COMPONENTS, LOG_LEVELS, type Config } from "./config-types.js";

export {
  COMPONENTS,
  LOG_LEVELS,
  type AuditWebhookConfig,
  type Component,
  type Config,
  type LeaderElectionConfig,
  type LogLevel,
  type ServiceAccountsConfig,
  type SopsKmsConfig,
} from "./config-types.js";

export type ConfigFlags = Readonly<Record<string, unknown>>;
export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadConfigInput {
  readonly flags: ConfigFlags;
  readonly env: Environment;
  /** The machine's host name: the identity when neither --identity nor POD_NAME is set. */
  readonly hostname: string;
}

/** One reported problem; `field` is a Config path such as "leaderElection.leaseName". */
export interface ConfigProblem {
  readonly field: string;
  readonly source: string;
  readonly message: string;
}

export const ENV_PREFIX = "GITOPS_GUARD_";

/** A settable leaf of Config: where it lives, its CLI flag and any conventional env names. */
interface Setting {
  readonly path: readonly [string] | readonly [string, string];
  readonly flag?: string;
  /** Consulted after GITOPS_GUARD_<FIELD>, e.g. the downward API's POD_NAMESPACE. */
  readonly fallbackEnv?: string;
}

const SETTINGS: readonly Setting[] = [
  { path: ["kubeconfig"], flag: "kubeconfig", fallbackEnv: "KUBECONFIG" },
  { path: ["components"], flag: "components" },
  { path: ["namespace"], flag: "namespace", fallbackEnv: "POD_NAMESPACE" },
  { path: ["webhookListen"], flag: "webhookListen" },
  { path: ["opsListen"], flag: "opsListen" },
  { path: ["stateDir"], flag: "stateDir" },
  { path: ["logLevel"], flag: "logLevel" },
  { path: ["identity"], flag: "identity", fallbackEnv: "POD_NAME" },
  { path: ["leaderElection", "enabled"], flag: "leaderElection" },
  { path: ["leaderElection", "leaseName"] },
  { path: ["leaderElection", "leaseDurationSeconds"] },
  { path: ["leaderElection", "renewDeadlineSeconds"] },
  { path: ["leaderElection", "retryPeriodSeconds"] },
  { path: ["impersonate"] },
  { path: ["serviceAccounts", "reconciler"] },
  { path: ["serviceAccounts", "secrets"] },
  { path: ["serviceAccounts", "webhook"] },
  { path: ["bitnamiSealedSecrets"], flag: "bitnamiSealedSecrets" },
  { path: ["unsealThreads"], flag: "unsealThreads" },
  { path: ["kubeHttp2"], flag: "kubeHttp2" },
  { path: ["auditWebhook", "listen"], flag: "auditWebhookListen" },
  { path: ["auditWebhook", "certFile"], flag: "auditWebhookCertFile" },
  { path: ["auditWebhook", "keyFile"], flag: "auditWebhookKeyFile" },
  { path: ["auditWebhook", "tokenFile"], flag: "auditWebhookTokenFile" },
  { path: ["sopsKms", "endpoint"], fallbackEnv: "AWS_ENDPOINT_URL_KMS" },
  { path: ["sopsKms", "stsEndpoint"], fallbackEnv: "AWS_ENDPOINT_URL_STS" },
  { path: ["sopsKms", "ambientCredentials"] },
];

const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const HTTP_URL = "^https?://[^\\s]+$";
const PATTERN_NAMES: Readonly<Record<string, string>> = {
  [HTTP_URL]: "an http:// or https:// URL",
  [DNS_LABEL]: "a DNS-1123 label (lower-case letters, digits and '-', at most 63)",
  [DNS_SUBDOMAIN]: "a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')",
};

function schema(): object {
  const text = (pattern: string, maxLength: number, d: string): object => {
    return { type: "string", pattern, maxLength, default: d };
  };
  const seconds = (d: number): object => ({ type: "integer", minimum: 1, default: d });
  const listen = (d: string): object => ({ type: "string", format: "host-port", default: d });
  const closed = (properties: object): object => {
    return { type: "object", additionalProperties: false, properties, default: {} };
  };
  const components = { type: "array", items: { type: "string", enum: COMPONENTS } };
  const properties = {
    kubeconfig: { type: "string", minLength: 1 },
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
    unsealThreads: { type: "integer", minimum: 0, maximum: 64, default: 2 },
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
    serviceAccounts: closed({
      reconciler: text(DNS_SUBDOMAIN, 253, "gitops-guard-reconciler"),
      secrets: text(DNS_SUBDOMAIN, 253, "gitops-guard-secrets"),
      webhook: text(DNS_SUBDOMAIN, 253, "gitops-guard-webhook"),
    }),
  };
  const required = ["components", "identity", "impersonate"];
  return { type: "object", additionalProperties: false, properties, required };
}

/** GITOPS_GUARD_<FIELD> for a Config path: leaderElection.leaseName -> LEADER_ELECTION_LEASE_NAME. */
function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.map((p) => p.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()).join("_");
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Every environment variable loadConfig reads, in Config order (for help text and docs). */
export function configEnvironmentNames(): string[] {
  return SETTINGS.flatMap((s) => [
    envName(s.path),
    ...(s.fallbackEnv === undefined ? [] : [s.fallbackEnv]),
  ]);
}

interface Given {
  readonly value: unknown;
  readonly source: string;
}

function lookup(setting: Setting, flags: ConfigFlags, env: Environment): Given | undefined {
  const flagValue = setting.flag === undefined ? undefined : flags[setting.flag];
  if (setting.flag !== undefined && flagValue !== undefined) {
    return { value: flagValue, source: `flag ${flagName(setting.flag)}` };
  }
  for (const name of [envName(setting.path), setting.fallbackEnv]) {
    const value = name === undefined ? undefined : env[name];
    // An empty variable counts as unset: manifests often template optional values to "".
    if (name !== undefined && value !== undefined && value !== "") {
      return { value, source: `env ${name}` };
    }
  }
  return undefined;
}

/** "a, b" from env or a flag becomes ["a", "b"]; arrays pass through. */
function splitList(value: unknown): unknown {
  if (typeof value !== "string") return value;
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, leaf] = path;
  if (head === undefined) return;
  if (leaf === undefined) {
    target[head] = value;
    return;
  }
  const inner = (target[head] ??= {}) as Record<string, unknown>;
  inner[leaf] = value;
}

interface Collected {
  readonly raw: Record<string, unknown>;
  readonly given: ReadonlyMap<string, Given>;
}

function collect(input: LoadConfigInput): Collected {
  const raw: Record<string, unknown> = {};
  const given = new Map<string, Given>();
  for (const setting of SETTINGS) {
    const found = lookup(setting, input.flags, input.env);
    if (found === undefined) continue;
    const value = setting.path[0] === "components" ? splitList(found.value) : found.value;
    setPath(raw, setting.path, value);
    given.set(setting.path.join("."), found);
  }
  // Derived defaults: they depend on other inputs, so a static schema default cannot hold them.
  if (raw.identity === undefined) {
    raw.identity = input.hostname;
    given.set("identity", { value: input.hostname, source: "hostname" });
  }
  raw.impersonate ??= raw.kubeconfig !== undefined;
  return { raw, given };
}

/** GITOPS_GUARD_* variables the developer commands read, not the service (seal's certificate). */
const CLI_ENV_NAMES = [`${ENV_PREFIX}CERT`];

function unknownInputs(input: LoadConfigInput): ConfigProblem[] {
  const knownEnv = new Set([...SETTINGS.map((s) => envName(s.path)), ...CLI_ENV_NAMES]);
  const knownFlags = new Set(SETTINGS.flatMap((s) => (s.flag === undefined ? [] : [s.flag])));
  const problems: ConfigProblem[] = [];
  for (const name of Object.keys(input.env)) {
    if (name.startsWith(ENV_PREFIX) && !knownEnv.has(name)) {
      // The value is not echoed: an unknown variable may well hold a credential.
      problems.push({
        field: name,
        source: `env ${name}`,
        message: `env ${name} is not a known setting`,
      });
    }
  }
  for (const [key, value] of Object.entries(input.flags)) {
    if (value !== undefined && !knownFlags.has(key)) {
      const source = `flag ${flagName(key)}`;
      problems.push({ field: key, source, message: `${source} is not a known setting` });
    }
  }
  return problems;
}

function describeAjvError(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
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

/** The Config path an ajv error refers to; array items report the whole list. */
function fieldOf(error: ErrorObject): string {
  return error.instancePath
    .split("/")
    .filter((part) => part !== "" && !/^\d+$/.test(part))
    .join(".");
}

function problem(field: string, given: Given | undefined, rule: string): ConfigProblem {
  const source = given?.source ?? "default";
  const shown = given === undefined ? "" : ` ${JSON.stringify(given.value)}`;
  return { field, source, message: `${field}${shown} (from ${source}) ${rule}` };
}

// The lease timing rules client-go enforces: renewDeadline < leaseDuration, retryPeriod < renewDeadline.
const LEASE_ORDER = [
  ["renewDeadlineSeconds", "leaseDurationSeconds"],
  ["retryPeriodSeconds", "renewDeadlineSeconds"],
] as const;

function leaseProblems(
  raw: Record<string, unknown>,
  given: ReadonlyMap<string, Given>,
): ConfigProblem[] {
  const lease = (raw.leaderElection ?? {}) as Record<string, unknown>;
  return LEASE_ORDER.flatMap(([shorter, longer]) => {
    const [value, limit] = [lease[shorter], lease[longer]];
    if (typeof value !== "number" || typeof limit !== "number" || value < limit) return [];
    const [field, other] = [`leaderElection.${shorter}`, `leaderElection.${longer}`];
    // Either side may be the one the user got wrong, so the message gives both sources.
    const limitSource = given.get(other)?.source ?? "default";
    const rule = `must be less than ${other} (${limit} from ${limitSource})`;
    return [problem(field, given.get(field), rule)];
  });
}

function dedupe(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(p.message) && seen.add(p.message));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Builds the Config from CLI flags, the environment and defaults; throws CONFIG_INVALID. */
export function loadConfig(input: LoadConfigInput): Config {
  // ajv (60-odd modules) loads when a config is loaded, not when the CLI starts: the
  // developer commands (seal, unseal, keys) never need it.
  const { Ajv } = createRequire(import.meta.url)("ajv") as typeof AjvModule;
  const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, strict: true });
  ajv.addFormat("host-port", (value: string) => parseHostPort(value) !== undefined);
  const validate = ajv.compile<Config>(schema());
  const { raw, given } = collect(input);
  const valid = validate(raw);
  const schemaProblems = (validate.errors ?? []).map((e) => {
    const field = fieldOf(e);
    return problem(field, given.get(field), describeAjvError(e));
  });
  const problems = dedupe([
    ...unknownInputs(input),
    ...schemaProblems,
    ...leaseProblems(raw, given),
  ]);
  if (!valid || problems.length > 0) {
    throw new GuardError(
      ErrorCodes.CONFIG_INVALID,
      `invalid configuration: ${problems.map((p) => p.message).join("; ")}`,
      { details: { errors: problems } },
    );
  }
  return deepFreeze(raw);
}
