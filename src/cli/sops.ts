/**
 * `gitops-guard sops decrypt|check`: SOPS files opened offline with local age keys (and AWS
 * KMS when a file names KMS keys), the MAC always verified. The work lives in sops-run.ts,
 * loaded only when a sops command runs.
 */
import { type Command, Option } from "commander";
import type { ProgramDeps } from "./program.js";

export const SOPS_OUTPUTS = ["yaml", "json"] as const;
export const SOPS_INPUTS = ["yaml", "json", "dotenv", "ini", "binary"] as const;

export interface SopsCommonFlags {
  readonly ageKeyFile: readonly string[];
  readonly inputType?: (typeof SOPS_INPUTS)[number];
  readonly kmsEndpoint?: string;
}

export interface SopsDecryptFlags extends SopsCommonFlags {
  readonly output?: (typeof SOPS_OUTPUTS)[number];
  readonly out?: string;
}

export interface SopsCheckFlags extends SopsCommonFlags {
  readonly kms?: boolean;
  readonly json?: boolean;
}

const KEYS_HELP = [
  "",
  "age identities come from every --age-key-file, then SOPS_AGE_KEY_FILE, then SOPS_AGE_KEY",
  "(identities separated by newlines). AWS KMS keys use the default AWS credentials",
  "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, profiles), the region in the",
  "key's ARN, and --kms-endpoint or AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL when set.",
].join("\n");

function collect(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}

function common(command: Command): Command {
  return command
    .option("--age-key-file <file>", "age identities file (repeatable)", collect, [])
    .addOption(
      new Option("--input-type <format>", "file format; default: from the file name").choices(
        SOPS_INPUTS,
      ),
    )
    .option("--kms-endpoint <url>", "AWS KMS endpoint URL (an emulator, a VPC endpoint)")
    .addHelpText("after", KEYS_HELP);
}

export function addSopsCommand(program: Command, deps: ProgramDeps): void {
  const sops = program
    .command("sops")
    .description("Decrypt SOPS files (age, AWS KMS), always verifying their MAC.");
  common(
    sops
      .command("decrypt")
      .description(
        "Decrypt FILE and print it, by default in its own format. JSON output of a YAML file " +
          "with several documents is an array of them. A file without a valid MAC is refused.",
      )
      .argument("<file>", "the SOPS-encrypted file"),
  )
    .addOption(new Option("-o, --output <format>", "output format").choices(SOPS_OUTPUTS))
    .option("--out <file>", "write to this file (mode 0600) instead of standard output")
    .action(async (file: string, _options: unknown, command: Command) => {
      const { runSopsDecrypt } = await import("./sops-run.js");
      await runSopsDecrypt(file, command.opts<SopsDecryptFlags>(), deps);
    });
  common(
    sops
      .command("check")
      .description(
        "Say which recipients and keys of FILE the local keys open, and whether that is " +
          "enough to decrypt it. Decrypts no value. Fails when the file cannot be decrypted.",
      )
      .argument("<file>", "the SOPS-encrypted file"),
  )
    .option("--kms", "also try the file's AWS KMS keys (calls KMS)")
    .option("--json", "print the result as JSON")
    .action(async (file: string, _options: unknown, command: Command) => {
      const { runSopsCheck } = await import("./sops-run.js");
      await runSopsCheck(file, command.opts<SopsCheckFlags>(), deps);
    });
}
