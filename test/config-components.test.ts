/**
 * The components' own settings in Config: reconciler workers, apply concurrency, heal workers,
 * git timeout and heal-loop backoff; secrets workers and key renewal; the watched namespace;
 * the webhook's advertised URL. Defaults, environment,
 * `gitops-guard run` flags (through the real CLI), and one invalid value per group.
 */
import { describe, expect, it } from "vitest";
import { buildProgram } from "../src/cli/program.js";
import { loadConfig, type Config, type LoadConfigInput } from "../src/config.js";
import { ErrorCodes, GuardError } from "../src/errors.js";

function load(input: Partial<LoadConfigInput> = {}): Config {
  return loadConfig({ flags: {}, env: {}, hostname: "node-1", ...input });
}

function failure(input: Partial<LoadConfigInput>): GuardError {
  try {
    load(input);
  } catch (err: unknown) {
    if (err instanceof GuardError) return err;
    throw err;
  }
  throw new Error("loadConfig accepted invalid input");
}

/** The Config `gitops-guard run ARGS` hands to the service. */
async function run(args: readonly string[], env: Record<string, string> = {}): Promise<Config> {
  let config: Config | undefined;
  const program = buildProgram({
    env,
    hostname: "node-1",
    run: (c) => {
      config = c;
      return Promise.resolve();
    },
  });
  await program.parseAsync(["node", "gitops-guard", "run", ...args]);
  if (config === undefined) throw new Error("run was not called");
  return config;
}

const ENV = {
  GITOPS_GUARD_RECONCILER_WORKERS: "2",
  GITOPS_GUARD_RECONCILER_APPLY_CONCURRENCY: "3",
  GITOPS_GUARD_RECONCILER_HEAL_WORKERS: "6",
  GITOPS_GUARD_RECONCILER_GIT_TIMEOUT_SECONDS: "30",
  GITOPS_GUARD_RECONCILER_HEAL_LOOP_THRESHOLD: "5",
  GITOPS_GUARD_RECONCILER_HEAL_LOOP_WINDOW_SECONDS: "120",
  GITOPS_GUARD_RECONCILER_HEAL_BACKOFF_SECONDS: "10",
  GITOPS_GUARD_RECONCILER_HEAL_BACKOFF_CAP_SECONDS: "600",
  GITOPS_GUARD_SECRETS_WORKERS: "16",
  GITOPS_GUARD_SECRETS_KEY_RENEW_PERIOD_HOURS: "0",
  GITOPS_GUARD_WATCH_NAMESPACE: "team-a",
  GITOPS_GUARD_RECONCILER_TOOLS_PATH: "/opt/tools/bin:/usr/bin",
  GITOPS_GUARD_WEBHOOK_URL: "https://guard.example.test:9443",
};

describe("the components' settings", () => {
  it("default to 4 reconciler workers, 8 applies, 4 heal workers, 120 s git, 3 heals in 60 s then 2 s to 5 min; 8 secrets workers, 30-day keys, all namespaces", () => {
    const config = load();
    expect(config.reconciler).toEqual({
      workers: 4,
      applyConcurrency: 8,
      healWorkers: 4,
      gitTimeoutSeconds: 120,
      toolsPath: "/usr/local/bin:/usr/bin:/bin",
      healLoopThreshold: 3,
      healLoopWindowSeconds: 60,
      healBackoffSeconds: 2,
      healBackoffCapSeconds: 300,
    });
    expect(config.secrets).toEqual({ workers: 8, keyRenewPeriodHours: 720 });
    expect("watchNamespace" in config).toBe(false);
    expect("webhookUrl" in config).toBe(false);
  });

  it("come from GITOPS_GUARD_RECONCILER_*, GITOPS_GUARD_SECRETS_*, GITOPS_GUARD_WATCH_NAMESPACE and GITOPS_GUARD_WEBHOOK_URL", () => {
    const config = load({ env: ENV });
    expect(config.reconciler).toEqual({
      workers: 2,
      applyConcurrency: 3,
      healWorkers: 6,
      gitTimeoutSeconds: 30,
      toolsPath: "/opt/tools/bin:/usr/bin",
      healLoopThreshold: 5,
      healLoopWindowSeconds: 120,
      healBackoffSeconds: 10,
      healBackoffCapSeconds: 600,
    });
    expect(config.secrets).toEqual({ workers: 16, keyRenewPeriodHours: 0 });
    expect(config.watchNamespace).toBe("team-a");
    expect(config.webhookUrl).toBe("https://guard.example.test:9443");
  });

  it("come from `gitops-guard run` flags, which win over the environment", async () => {
    const config = await run(
      [
        ...[
          "--reconciler-workers",
          "8",
          "--apply-concurrency",
          "16",
          "--heal-workers",
          "2",
          "--git-timeout-seconds",
          "300",
          "--tools-path",
          "/srv/bin",
        ],
        ...["--heal-loop-threshold", "4", "--heal-loop-window-seconds", "30"],
        ...["--heal-backoff-seconds", "1", "--heal-backoff-cap-seconds", "60"],
        ...["--secrets-workers", "1", "--key-renew-period-hours", "168"],
        ...["--watch-namespace", "team-b"],
        ...["--webhook-url", "https://[fd00::5]:8443"],
      ],
      ENV,
    );
    expect(config.reconciler).toEqual({
      workers: 8,
      applyConcurrency: 16,
      healWorkers: 2,
      gitTimeoutSeconds: 300,
      toolsPath: "/srv/bin",
      healLoopThreshold: 4,
      healLoopWindowSeconds: 30,
      healBackoffSeconds: 1,
      healBackoffCapSeconds: 60,
    });
    expect(config.secrets).toEqual({ workers: 1, keyRenewPeriodHours: 168 });
    expect(config.watchNamespace).toBe("team-b");
    expect(config.webhookUrl).toBe("https://[fd00::5]:8443");
  });
});

const invalid = [
  {
    input: { flags: { reconcilerWorkers: "0" } },
    field: "reconciler.workers",
    source: "flag --reconciler-workers",
    message: 'reconciler.workers "0" (from flag --reconciler-workers) must be at least 1',
  },
  {
    input: { env: { GITOPS_GUARD_RECONCILER_APPLY_CONCURRENCY: "0" } },
    field: "reconciler.applyConcurrency",
    source: "env GITOPS_GUARD_RECONCILER_APPLY_CONCURRENCY",
    message:
      'reconciler.applyConcurrency "0" (from env GITOPS_GUARD_RECONCILER_APPLY_CONCURRENCY) must be at least 1',
  },
  {
    input: { flags: { healWorkers: "65" } },
    field: "reconciler.healWorkers",
    source: "flag --heal-workers",
    message: 'reconciler.healWorkers "65" (from flag --heal-workers) must be at most 64',
  },
  {
    input: { flags: { webhookUrl: "http://guard.example.test:9443/validate" } },
    field: "webhookUrl",
    source: "flag --webhook-url",
    message:
      'webhookUrl "http://guard.example.test:9443/validate" (from flag --webhook-url) must be https://host or https://host:port, with no path',
  },
  {
    input: { env: { GITOPS_GUARD_RECONCILER_HEAL_LOOP_THRESHOLD: "1" } },
    field: "reconciler.healLoopThreshold",
    source: "env GITOPS_GUARD_RECONCILER_HEAL_LOOP_THRESHOLD",
    message:
      'reconciler.healLoopThreshold "1" (from env GITOPS_GUARD_RECONCILER_HEAL_LOOP_THRESHOLD) must be at least 2',
  },
  {
    input: { env: { GITOPS_GUARD_RECONCILER_HEAL_BACKOFF_SECONDS: "600" } },
    field: "reconciler.healBackoffSeconds",
    source: "env GITOPS_GUARD_RECONCILER_HEAL_BACKOFF_SECONDS",
    message:
      'reconciler.healBackoffSeconds "600" (from env GITOPS_GUARD_RECONCILER_HEAL_BACKOFF_SECONDS) must be at most reconciler.healBackoffCapSeconds (300 from default)',
  },
  {
    input: { flags: { toolsPath: "bin:/usr/bin" } },
    field: "reconciler.toolsPath",
    source: "flag --tools-path",
    message:
      "reconciler.toolsPath \"bin:/usr/bin\" (from flag --tools-path) must be absolute folders separated by ':'",
  },
  {
    input: { flags: { gitTimeoutSeconds: "2m" } },
    field: "reconciler.gitTimeoutSeconds",
    source: "flag --git-timeout-seconds",
    message: 'reconciler.gitTimeoutSeconds "2m" (from flag --git-timeout-seconds) must be integer',
  },
  {
    input: { env: { GITOPS_GUARD_SECRETS_WORKERS: "65" } },
    field: "secrets.workers",
    source: "env GITOPS_GUARD_SECRETS_WORKERS",
    message: 'secrets.workers "65" (from env GITOPS_GUARD_SECRETS_WORKERS) must be at most 64',
  },
  {
    input: { flags: { keyRenewPeriodHours: "-1" } },
    field: "secrets.keyRenewPeriodHours",
    source: "flag --key-renew-period-hours",
    message:
      'secrets.keyRenewPeriodHours "-1" (from flag --key-renew-period-hours) must be at least 0',
  },
  {
    input: { env: { GITOPS_GUARD_WATCH_NAMESPACE: "Team_A" } },
    field: "watchNamespace",
    source: "env GITOPS_GUARD_WATCH_NAMESPACE",
    message:
      "watchNamespace \"Team_A\" (from env GITOPS_GUARD_WATCH_NAMESPACE) must be a DNS-1123 label (lower-case letters, digits and '-', at most 63)",
  },
] as const;

describe("invalid component settings", () => {
  it.each(invalid)("name the field and its source: $field from $source", (c) => {
    const err = failure(c.input);
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toBe(`invalid configuration: ${c.message}`);
    expect(err.details.errors).toEqual([{ field: c.field, source: c.source, message: c.message }]);
  });
});
