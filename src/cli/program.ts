/**
 * The gitops-guard command line. buildProgram takes its effects as dependencies (the run
 * function, the environment, the host name, where output goes), so tests drive it in-process.
 */
import { Command } from "commander";
import {
  COMPONENTS,
  configEnvironmentNames,
  loadConfig,
  type Config,
  type Environment,
} from "../config.js";
import { packageVersion } from "../telemetry/build-info.js";
import { addAuditCommand } from "./audit.js";
import { addBreakGlassCommand } from "./break-glass.js";
import { addDiffCommand } from "./diff.js";
import { addKeysCommand } from "./keys.js";
import { addSealCommand } from "./seal.js";
import { addSopsCommand } from "./sops.js";
import { addUnsealCommand } from "./unseal.js";
import { addWebhookCommand } from "./webhook.js";

/** Runs the service until it is told to stop; main.ts provides it. */
export type RunFn = (config: Config) => Promise<void>;

export interface CliOutput {
  readonly writeOut: (text: string) => void;
  readonly writeErr: (text: string) => void;
}

export interface ProgramDeps {
  readonly run: RunFn;
  readonly env: Environment;
  readonly hostname: string;
  /** Where help, version and usage errors go; the process's stdout/stderr when absent. */
  readonly output?: CliOutput;
  /** All of standard input (seal, unseal); the process's stdin when absent. */
  readonly readStdin?: () => Promise<Buffer>;
}

const DESCRIPTION =
  "gitops-guard makes Git the only way to change a Kubernetes cluster, and proves it. One " +
  "service runs four components: an admission webhook that denies out-of-band changes to " +
  "guarded objects (with a bounded, audited break-glass path), a SealedSecrets and SOPS " +
  "controller that turns encrypted Git content into Secrets, a GitOps reconciler that applies " +
  "what Git says and heals drift, and a drift auditor that attributes every out-of-band edit " +
  "and writes it to a tamper-evident journal.";

const RUN_DESCRIPTION =
  "Run the service: the components named by --components, against the cluster the pod runs " +
  "in, or against --kubeconfig (each component then impersonates its own service account).";

function environmentHelp(): string {
  const names = configEnvironmentNames().map((name) => `  ${name}`);
  return [
    "",
    "Every setting can also come from the environment; a flag wins over the environment,",
    "the environment over the default. Unknown GITOPS_GUARD_* variables are an error.",
    ...names,
  ].join("\n");
}

/** Only the options given on the command line: commander's defaults must not hide env. */
function explicitFlags(command: Command): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(command.opts()).filter(([key]) => command.getOptionValueSource(key) === "cli"),
  );
}

function addRunCommand(program: Command, deps: ProgramDeps): void {
  program
    .command("run")
    .description(RUN_DESCRIPTION)
    .option("--kubeconfig <file>", "kubeconfig file; absent: in-cluster service account")
    .option("--components <list>", `comma-separated, from: ${COMPONENTS.join(", ")}`)
    .option("--namespace <name>", "the namespace gitops-guard runs in")
    .option("--webhook-listen <host:port>", "address of the admission webhook (HTTPS)")
    .option("--ops-listen <host:port>", "address of /healthz, /readyz and /metrics (HTTP)")
    .option("--state-dir <dir>", "directory for the audit journal and Git checkouts")
    .option("--log-level <level>", "trace, debug, info, warn, error or fatal")
    .option("--no-leader-election", "run the leader-only components without a Lease")
    .option(
      "--bitnami-sealed-secrets",
      "also reconcile bitnami.com/v1alpha1 SealedSecrets (taking over from Bitnami's controller)",
    )
    .option("--unseal-threads <n>", "threads that open SealedSecrets (RSA); 0: the event loop")
    .option("--no-kube-http2", "talk HTTP/1.1 to the API server (HTTP/2 otherwise)")
    .option("--audit-webhook-listen <host:port>", "serve the API server's audit webhook (HTTPS)")
    .option("--audit-webhook-cert-file <file>", "its TLS certificate (PEM)")
    .option("--audit-webhook-key-file <file>", "its TLS key (PEM)")
    .option("--audit-webhook-token-file <file>", "the bearer token the API server must send")
    .option("--identity <name>", "leader-election identity; default POD_NAME, else host name")
    .option(
      "--default-service-account <name>",
      "GitSyncs without spec.serviceAccountName act as this account of their own namespace",
    )
    .option(
      "--allow-file-urls",
      "let GitSyncs read file:// repositories on the controller's disk (UNSAFE: tests and demos only)",
    )
    .option("--reconciler-workers <n>", "GitSyncs reconciled at once (default 4)")
    .option(
      "--apply-concurrency <n>",
      "API requests one sync keeps in flight: applies, prunes, health reads (default 8)",
    )
    .option("--heal-workers <n>", "objects self-heal repairs at once (default 4)")
    .option("--git-timeout-seconds <s>", "how long one git fetch or clone may take (default 120)")
    .option(
      "--tools-path <path>",
      "PATH where git, ssh, kustomize and helm are found (default /usr/local/bin:/usr/bin:/bin)",
    )
    .option(
      "--heal-loop-threshold <n>",
      "heals undone by one other field manager within the window that make a heal loop (default 3)",
    )
    .option("--heal-loop-window-seconds <s>", "the heal-loop window (default 60)")
    .option(
      "--heal-backoff-seconds <s>",
      "in a heal loop, the first wait before healing again, doubling per heal (default 2)",
    )
    .option("--heal-backoff-cap-seconds <s>", "the longest wait in a heal loop (default 300)")
    .option("--secrets-workers <n>", "SealedSecrets reconciled at once (default 8)")
    .option(
      "--key-renew-period-hours <h>",
      "a new sealing key this long after the newest (default 720); 0: never",
    )
    .option(
      "--watch-namespace <name>",
      "the secrets controller watches only this namespace (default all)",
    )
    .option(
      "--webhook-url <url>",
      "out of a cluster, the https://host[:port] the API server calls the webhook at",
    )
    .addHelpText("after", environmentHelp)
    .action(async (_options: unknown, command: Command) => {
      const flags = explicitFlags(command);
      const config = loadConfig({ flags, env: deps.env, hostname: deps.hostname });
      await deps.run(config);
    });
}

/**
 * The root command. Usage errors, --help and --version throw a CommanderError (exitOverride)
 * instead of exiting, so the caller decides the exit code.
 */
export function buildProgram(deps: ProgramDeps): Command {
  const program = new Command()
    .name("gitops-guard")
    .description(DESCRIPTION)
    .version(packageVersion(), "-V, --version", "print the version")
    .exitOverride();
  if (deps.output !== undefined) {
    program.configureOutput({ writeOut: deps.output.writeOut, writeErr: deps.output.writeErr });
  }
  // Subcommands copy the settings above, so they are added last.
  addRunCommand(program, deps);
  addSealCommand(program, deps);
  addUnsealCommand(program, deps);
  addKeysCommand(program, deps);
  addAuditCommand(program, deps);
  addSopsCommand(program, deps);
  addBreakGlassCommand(program, deps);
  addWebhookCommand(program, deps);
  addDiffCommand(program, deps);
  return program;
}
