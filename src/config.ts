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
import { kubeconfigList } from "./kube/kubeconfig-merge.js";

import { type Config } from "./config-types.js";
import { describeAjvError, schema } from "./config-schema.js";

export {
  COMPONENTS,
  LOG_LEVELS,
  type AuditWebhookConfig,
  type Component,
  type Config,
  type LeaderElectionConfig,
  type LogLevel,
  type ReconcilerConfig,
  type SecretsConfig,
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
  { path: ["defaultServiceAccount"], flag: "defaultServiceAccount" },
  { path: ["allowFileUrls"], flag: "allowFileUrls" },
  { path: ["reconciler", "workers"], flag: "reconcilerWorkers" },
  { path: ["reconciler", "applyConcurrency"], flag: "applyConcurrency" },
  { path: ["reconciler", "healWorkers"], flag: "healWorkers" },
  { path: ["reconciler", "gitTimeoutSeconds"], flag: "gitTimeoutSeconds" },
  { path: ["reconciler", "toolsPath"], flag: "toolsPath" },
  { path: ["reconciler", "healLoopThreshold"], flag: "healLoopThreshold" },
  { path: ["reconciler", "healLoopWindowSeconds"], flag: "healLoopWindowSeconds" },
  { path: ["reconciler", "healBackoffSeconds"], flag: "healBackoffSeconds" },
  { path: ["reconciler", "healBackoffCapSeconds"], flag: "healBackoffCapSeconds" },
  { path: ["secrets", "workers"], flag: "secretsWorkers" },
  { path: ["secrets", "keyRenewPeriodHours"], flag: "keyRenewPeriodHours" },
  { path: ["watchNamespace"], flag: "watchNamespace" },
  { path: ["webhookUrl"], flag: "webhookUrl" },
];

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

/**
 * Lists given as text: components "a, b" (arrays pass through), and kubeconfig files as
 * kubectl takes them: --kubeconfig names one, KUBECONFIG a list ("a:b").
 */
function valueOf({ path: [field] }: Setting, { value, source }: Given): unknown {
  if (typeof value !== "string") return value;
  if (field === "kubeconfig") return source.startsWith("flag") ? [value] : kubeconfigList(value);
  if (field !== "components") return value;
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
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
    setPath(raw, setting.path, valueOf(setting, found));
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

/**
 * Limits between two fields: the lease timing rules client-go enforces (renewDeadline <
 * leaseDuration, retryPeriod < renewDeadline), and a heal backoff no longer than its cap.
 */
const ORDER_RULES = [
  ["leaderElection.renewDeadlineSeconds", "leaderElection.leaseDurationSeconds", "less than"],
  ["leaderElection.retryPeriodSeconds", "leaderElection.renewDeadlineSeconds", "less than"],
  ["reconciler.healBackoffSeconds", "reconciler.healBackoffCapSeconds", "at most"],
] as const;

function valueAt(raw: Record<string, unknown>, path: string): unknown {
  const [head = "", leaf = ""] = path.split(".");
  return (raw[head] as Record<string, unknown> | undefined)?.[leaf];
}

function orderProblems(
  raw: Record<string, unknown>,
  given: ReadonlyMap<string, Given>,
): ConfigProblem[] {
  return ORDER_RULES.flatMap(([field, other, relation]) => {
    const [value, limit] = [valueAt(raw, field), valueAt(raw, other)];
    if (typeof value !== "number" || typeof limit !== "number") return [];
    if (relation === "less than" ? value < limit : value <= limit) return [];
    // Either side may be the one the user got wrong, so the message gives both sources.
    const limitSource = given.get(other)?.source ?? "default";
    const rule = `must be ${relation} ${other} (${limit} from ${limitSource})`;
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
    ...orderProblems(raw, given),
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
