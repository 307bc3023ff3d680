/**
 * `gitops-guard webhook --policy FILE --listen ADDR --tls-cert F --tls-key F`: the admission
 * webhook without a cluster (DESIGN.md), serving POST /validate until SIGINT or SIGTERM. It
 * loads neither the Kubernetes client nor any informer: start-up stays quick for CI.
 */
import { Option, type Command } from "commander";
import { LOG_LEVELS, type LogLevel } from "../config.js";
import { realClock } from "../runtime/clock.js";
import type { ProgramDeps } from "./program.js";

export interface WebhookFlags {
  readonly policy: string[];
  readonly listen: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly namespace?: string;
  readonly onInternalError: "deny" | "allow";
  readonly logLevel: LogLevel;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Stops on the first SIGINT or SIGTERM. */
function stopSignal(): AbortSignal {
  const abort = new AbortController();
  const stop = (): void => {
    abort.abort();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return abort.signal;
}

async function runWebhook(flags: WebhookFlags, write: (text: string) => void): Promise<void> {
  const [{ startStandaloneWebhook }, { createLogger }, { createMetrics }] = await Promise.all([
    import("../admission/standalone.js"),
    import("../telemetry/log.js"),
    import("../telemetry/metrics.js"),
  ]);
  const logger = createLogger({ level: flags.logLevel, name: "gitops-guard-webhook" });
  const webhook = await startStandaloneWebhook({
    policyFiles: flags.policy,
    listen: flags.listen,
    tlsCert: flags.tlsCert,
    tlsKey: flags.tlsKey,
    ...(flags.namespace === undefined ? {} : { ownNamespace: flags.namespace }),
    onInternalError: flags.onInternalError,
    logger,
    metrics: createMetrics(),
    clock: realClock(),
  });
  write(
    `gitops-guard webhook: ${webhook.policies} GuardPolicies, serving ${webhook.server.url}/validate\n`,
  );
  await webhook.run(stopSignal());
}

export function addWebhookCommand(program: Command, deps: ProgramDeps): void {
  program
    .command("webhook")
    .description(
      "Serve the admission webhook without a cluster: POST /validate judges AdmissionReviews " +
        "with the GuardPolicies of --policy (no inventory, no Events). For local tests and CI.",
    )
    .requiredOption(
      "--policy <file>",
      "GuardPolicy YAML (one or more documents; repeatable)",
      collect,
    )
    .requiredOption("--listen <host:port>", "address to serve HTTPS on, e.g. 127.0.0.1:8443")
    .requiredOption("--tls-cert <file>", "PEM serving certificate (re-read when it changes)")
    .requiredOption("--tls-key <file>", "PEM private key of the certificate")
    .option(
      "--namespace <ns>",
      "gitops-guard's own namespace, never guarded (default gitops-guard-system)",
    )
    .addOption(
      new Option("--on-internal-error <mode>", "answer to an internal error")
        .choices(["deny", "allow"])
        .default("deny"),
    )
    .addOption(new Option("--log-level <level>", "log level").choices(LOG_LEVELS).default("info"))
    .action(async (_options: unknown, command: Command) => {
      const write = deps.output?.writeOut ?? ((text: string) => process.stdout.write(text));
      await runWebhook(command.opts<WebhookFlags>(), write);
    });
}
