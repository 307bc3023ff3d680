/**
 * `gitops-guard unseal`: opens SealedSecrets offline with private keys, for review. It prints
 * the Secrets they stand for with each value replaced by its size and the key that opened it;
 * the values themselves only with --show-values. A value that does not open says why.
 */
import { type Command, Option } from "commander";
import { OUTPUT_FORMATS, type OutputFormat } from "./documents.js";
import { cliIo } from "./io.js";
import type { ProgramDeps } from "./program.js";

export interface UnsealFlags {
  readonly privateKey: readonly string[];
  readonly secretFile?: string;
  readonly sealedSecretFile?: string;
  readonly showValues?: boolean;
  readonly format: OutputFormat;
}

const DESCRIPTION =
  "Open SealedSecrets (stdin or -f; either group) with private keys and print the Secrets " +
  "they stand for. Values are hidden unless --show-values: each shows its size and the key " +
  "that opened it, which tells what still depends on an old key.";

function collect(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}

export function addUnsealCommand(program: Command, deps: ProgramDeps): void {
  program
    .command("unseal")
    .description(DESCRIPTION)
    .option(
      "--private-key <files>",
      "PEM private keys or a key backup (comma-separated, repeatable)",
      collect,
      [],
    )
    .option("-f, --secret-file <file>", "SealedSecret input file (default: stdin)")
    .option("-w, --sealed-secret-file <file>", "output file, replaced atomically")
    .option("--show-values", "print the values (base64), not only their sizes")
    .addOption(
      new Option("-o, --format <format>", "output format").choices(OUTPUT_FORMATS).default("yaml"),
    )
    .action(async (_options: unknown, command: Command) => {
      const { runUnseal } = await import("./unseal-run.js");
      await runUnseal(command.opts<UnsealFlags>(), cliIo(deps));
    });
}
