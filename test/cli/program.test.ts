import { readFileSync } from "node:fs";
import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram, type ProgramDeps } from "../../src/cli/program.js";
import { runCli } from "../../src/cli/run-cli.js";
import type { Config, Environment } from "../../src/config.js";
import { ErrorCodes, GuardError } from "../../src/errors.js";

const version = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;

interface Harness {
  readonly deps: ProgramDeps & { output: NonNullable<ProgramDeps["output"]> };
  readonly configs: Config[];
  readonly out: () => string;
  readonly err: () => string;
}

function harness(env: Environment = {}, run?: (config: Config) => Promise<void>): Harness {
  const configs: Config[] = [];
  let out = "";
  let err = "";
  return {
    deps: {
      env,
      hostname: "test-host",
      run:
        run ??
        ((config) => {
          configs.push(config);
          return Promise.resolve();
        }),
      output: { writeOut: (t) => (out += t), writeErr: (t) => (err += t) },
    },
    configs,
    out: () => out,
    err: () => err,
  };
}

/** Runs the program in-process; resolves to the CommanderError it threw, if any. */
async function parse(h: Harness, ...args: string[]): Promise<CommanderError | undefined> {
  try {
    await buildProgram(h.deps).parseAsync(["node", "gitops-guard", ...args]);
    return undefined;
  } catch (err: unknown) {
    if (err instanceof CommanderError) return err;
    throw err;
  }
}

describe("buildProgram", () => {
  it("prints the version from package.json", async () => {
    const h = harness();
    const err = await parse(h, "--version");
    expect(err?.code).toBe("commander.version");
    expect(err?.exitCode).toBe(0);
    expect(h.out()).toBe(`${version}\n`);
  });

  it("describes itself and its run command in --help", async () => {
    const h = harness();
    const err = await parse(h, "--help");
    expect(err?.code).toBe("commander.helpDisplayed");
    expect(h.out()).toContain("Usage: gitops-guard [options] [command]");
    expect(h.out()).toContain("makes Git the only way to change a Kubernetes cluster");
    expect(h.out()).toMatch(/\n\s+run \[options\]/);
  });

  it("lists run's flags and environment variables in run --help", async () => {
    const h = harness();
    await parse(h, "run", "--help");
    for (const flag of [
      "--kubeconfig <file>",
      "--components <list>",
      "--namespace <name>",
      "--webhook-listen <host:port>",
      "--ops-listen <host:port>",
      "--state-dir <dir>",
      "--log-level <level>",
      "--no-leader-election",
      "--identity <name>",
    ]) {
      expect(h.out()).toContain(flag);
    }
    expect(h.out()).toContain("GITOPS_GUARD_WEBHOOK_LISTEN");
    expect(h.out()).toContain("POD_NAMESPACE");
  });

  it("passes the loaded config to run", async () => {
    const h = harness();
    const args = ["run", "--components", "admission", "--webhook-listen", "127.0.0.1:9000"];
    expect(await parse(h, ...args, "--kubeconfig", "/tmp/kc", "--log-level", "debug")).toBe(
      undefined,
    );
    expect(h.configs).toHaveLength(1);
    expect(h.configs[0]).toMatchObject({
      components: ["admission"],
      webhookListen: "127.0.0.1:9000",
      kubeconfig: ["/tmp/kc"],
      impersonate: true,
      logLevel: "debug",
      identity: "test-host",
      leaderElection: { enabled: true },
    });
    expect(Object.isFrozen(h.configs[0])).toBe(true);
  });

  it("lets flags win over the environment", async () => {
    const h = harness({ GITOPS_GUARD_STATE_DIR: "/env", GITOPS_GUARD_NAMESPACE: "from-env" });
    await parse(h, "run", "--state-dir", "/flag", "--identity", "me");
    expect(h.configs[0]).toMatchObject({
      stateDir: "/flag",
      namespace: "from-env",
      identity: "me",
    });
  });

  it("does not let commander's default for --no-leader-election hide the environment", async () => {
    const fromEnv = harness({ GITOPS_GUARD_LEADER_ELECTION_ENABLED: "false" });
    await parse(fromEnv, "run");
    expect(fromEnv.configs[0]?.leaderElection.enabled).toBe(false);
    const fromFlag = harness({ GITOPS_GUARD_LEADER_ELECTION_ENABLED: "true" });
    await parse(fromFlag, "run", "--no-leader-election");
    expect(fromFlag.configs[0]?.leaderElection.enabled).toBe(false);
  });

  it("talks HTTP/1.1 to the API server with --no-kube-http2 or GITOPS_GUARD_KUBE_HTTP2=false", async () => {
    const byDefault = harness();
    await parse(byDefault, "run");
    expect(byDefault.configs[0]?.kubeHttp2).toBe(true);
    const fromEnv = harness({ GITOPS_GUARD_KUBE_HTTP2: "false" });
    await parse(fromEnv, "run");
    expect(fromEnv.configs[0]?.kubeHttp2).toBe(false);
    const fromFlag = harness({ GITOPS_GUARD_KUBE_HTTP2: "true" });
    await parse(fromFlag, "run", "--no-kube-http2");
    expect(fromFlag.configs[0]?.kubeHttp2).toBe(false);
  });

  it("rejects an unknown option without running", async () => {
    const h = harness();
    const err = await parse(h, "run", "--webhook-listn", "x");
    expect(err?.code).toBe("commander.unknownOption");
    expect(err?.exitCode).toBe(1);
    expect(h.err()).toContain("unknown option '--webhook-listn'");
    expect(h.configs).toHaveLength(0);
  });

  it("throws CONFIG_INVALID from run for a bad value, without running", async () => {
    const h = harness();
    await expect(parse(h, "run", "--ops-listen", "nowhere")).rejects.toMatchObject({
      code: ErrorCodes.CONFIG_INVALID,
    });
    expect(h.configs).toHaveLength(0);
  });
});

describe("runCli", () => {
  const argv = (...args: string[]): string[] => ["/usr/bin/node", "/x/bin.js", ...args];

  it("returns 0 after a successful run", async () => {
    const h = harness();
    expect(await runCli(argv("run"), h.deps)).toBe(0);
    expect(h.configs).toHaveLength(1);
  });

  it("prints a GuardError as 'error CODE: message' without a stack and returns 1", async () => {
    const h = harness({ GITOPS_GUARD_LOG_LEVL: "debug" });
    expect(await runCli(argv("run"), h.deps)).toBe(1);
    expect(h.err()).toBe(
      "error GG_CONFIG_INVALID: invalid configuration: env GITOPS_GUARD_LOG_LEVL is not a known setting\n",
    );
  });

  it("prints the stack of an unexpected error and returns 1", async () => {
    const h = harness({}, () => Promise.reject(new Error("kaboom")));
    expect(await runCli(argv("run"), h.deps)).toBe(1);
    expect(h.err()).toMatch(/^error: Error: kaboom\n\s+at /);
  });

  it("returns a GuardError from run as 1 with its code", async () => {
    const h = harness({}, () => Promise.reject(new GuardError(ErrorCodes.LEADER_LOST, "lost")));
    expect(await runCli(argv("run"), h.deps)).toBe(1);
    expect(h.err()).toBe("error GG_LEADER_LOST: lost\n");
  });

  it("returns commander's exit codes: 0 for --version, 1 for usage errors", async () => {
    expect(await runCli(argv("--version"), harness().deps)).toBe(0);
    expect(await runCli(argv("frobnicate"), harness().deps)).toBe(1);
  });
});
