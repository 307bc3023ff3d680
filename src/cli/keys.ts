/**
 * `gitops-guard keys`: look at, back up and import sealing keys, and move a repository's
 * SealedSecrets to the newest key. list, fingerprint, usage and reencrypt work on files;
 * backup and import --apply talk to the cluster (the client is loaded only for them).
 */
import { type Command, Option } from "commander";
import { DEFAULT_CONTROLLER_NAMESPACE } from "./controller.js";
import { OUTPUT_FORMATS, type OutputFormat } from "./documents.js";
import { cliIo } from "./io.js";
import type * as KeysRun from "./keys-run.js";
import type { ProgramDeps } from "./program.js";

export interface KeysBackupFlags {
  readonly namespace?: string;
  readonly bitnami?: boolean;
  readonly kubeconfig?: string;
  readonly format: OutputFormat;
  readonly sealedSecretFile?: string;
}

export interface KeysImportFlags {
  readonly namespace: string;
  readonly apply?: boolean;
  readonly kubeconfig?: string;
  readonly format: OutputFormat;
}

export const USAGE_FORMATS = ["text", "json"] as const;

export interface KeysUsageFlags {
  readonly privateKey: readonly string[];
  readonly format: (typeof USAGE_FORMATS)[number];
}

export interface KeysReencryptFlags {
  readonly privateKey: readonly string[];
  readonly cert?: string;
  readonly dryRun?: boolean;
}

const FILES_HELP =
  "FILE: PEM private keys and certificates, or a key backup (key Secrets or a v1 List of them, " +
  "YAML or JSON, ours or Bitnami's)";

function formatOption(fallback: OutputFormat): Option {
  return new Option("-o, --format <format>", "output format")
    .choices(OUTPUT_FORMATS)
    .default(fallback);
}

function collect(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}

const PRIVATE_KEY_HELP = "PEM private keys or a key backup (comma-separated, repeatable)";
const PATHS_HELP =
  "files and folders (searched recursively for *.yaml, *.yml and *.json; either group)";

/** usage and reencrypt: what depends on old keys, and moving it to the newest key. */
function addRotationCommands(keys: Command, deps: ProgramDeps): void {
  keys
    .command("usage")
    .description(
      `Show which key each SealedSecret value in ${PATHS_HELP} is sealed for: per key, how ` +
        "many SealedSecrets and values depend on it, and where the ones on older keys are; " +
        "values no key opens, with why. Values are never printed.",
    )
    .argument("<path...>")
    .option("--private-key <files>", PRIVATE_KEY_HELP, collect, [])
    .addOption(
      new Option("-o, --format <format>", "output format").choices(USAGE_FORMATS).default("text"),
    )
    .action(async (paths: string[], _o: unknown, command: Command) => {
      const { keysUsage } = await import("./keys-usage.js");
      await keysUsage(paths, command.opts<KeysUsageFlags>(), cliIo(deps));
    });
  keys
    .command("reencrypt")
    .description(
      `Re-encrypt, in place, every SealedSecret value in ${PATHS_HELP} that is sealed for an ` +
        "older key, for the newest key held (or --cert's). Other documents, comments and " +
        "layout are kept; files with nothing to move are not written. Values are never printed.",
    )
    .argument("<path...>")
    .option("--private-key <files>", PRIVATE_KEY_HELP, collect, [])
    .option("--cert <file>", "re-encrypt for this certificate's key instead of the newest held")
    .option("--dry-run", "list what would change; write nothing")
    .action(async (paths: string[], _o: unknown, command: Command) => {
      const { keysReencrypt } = await import("./keys-reencrypt.js");
      await keysReencrypt(paths, command.opts<KeysReencryptFlags>(), cliIo(deps));
    });
}

export function addKeysCommand(program: Command, deps: ProgramDeps): void {
  const keys = program
    .command("keys")
    .description(
      "List, fingerprint, back up and import sealing keys; find and re-encrypt what depends on old ones.",
    );
  const run = async (action: (m: typeof KeysRun) => Promise<void>): Promise<void> => {
    await action(await import("./keys-run.js"));
  };
  keys
    .command("list")
    .description(
      `Show the keys in files: fingerprint, size, validity, and which is newest. ${FILES_HELP}`,
    )
    .argument("<file...>")
    .action(async (files: string[]) => {
      await run((m) => m.listKeys(files, cliIo(deps)));
    });
  keys
    .command("fingerprint")
    .description(`Print the SSH SHA256 fingerprint of each key and certificate. ${FILES_HELP}`)
    .argument("<file...>")
    .action(async (files: string[]) => {
      await run((m) => m.fingerprints(files, cliIo(deps)));
    });
  keys
    .command("backup")
    .description(
      "Export the controller's key Secrets as a v1 List (kubeseal --recovery-private-key reads it). " +
        "It holds private keys: keep it out of Git.",
    )
    .option(
      "--namespace <ns>",
      `where the key Secrets are (default ${DEFAULT_CONTROLLER_NAMESPACE}; kube-system with --bitnami)`,
    )
    .option("--bitnami", "back up Bitnami's key Secrets instead of gitops-guard's")
    .option("--kubeconfig <file>", "kubeconfig (default: $KUBECONFIG, ~/.kube/config)")
    .option("-w, --sealed-secret-file <file>", "output file, replaced atomically")
    .addOption(formatOption("yaml"))
    .action(async (_o: unknown, command: Command) => {
      await run((m) => m.backupKeys(command.opts<KeysBackupFlags>(), cliIo(deps)));
    });
  keys
    .command("import")
    .description(
      "Turn keys (Bitnami key Secrets, a backup, PEM files) into gitops-guard key Secrets: printed " +
        `for kubectl apply, or applied with --apply. Nothing is re-encrypted. ${FILES_HELP}`,
    )
    .argument("<file...>")
    .option("--namespace <ns>", "the controller's namespace", DEFAULT_CONTROLLER_NAMESPACE)
    .option("--apply", "apply the key Secrets to the cluster (server-side apply)")
    .option("--kubeconfig <file>", "kubeconfig (default: $KUBECONFIG, ~/.kube/config)")
    .addOption(formatOption("yaml"))
    .action(async (files: string[], _o: unknown, command: Command) => {
      await run((m) => m.importKeys(files, command.opts<KeysImportFlags>(), cliIo(deps)));
    });
  addRotationCommands(keys, deps);
}
