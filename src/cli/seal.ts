/**
 * `gitops-guard seal`: a drop-in for kubeseal's common use, with kubeseal's flag names. Only
 * the option definitions load with the program; the work is imported when the command runs,
 * and the Kubernetes client only on the paths that talk to a cluster.
 */
import { type Command, Option } from "commander";
import { SCOPES } from "../crypto/sealing/scope.js";
import { SEALED_SECRET_API_VERSIONS } from "../crypto/sealing/sealed-secret.js";
import { DEFAULT_CONTROLLER_NAME, DEFAULT_CONTROLLER_NAMESPACE } from "./controller.js";
import { OUTPUT_FORMATS } from "./documents.js";
import { cliIo } from "./io.js";
import type { ProgramDeps } from "./program.js";

export interface SealFlags {
  readonly cert?: string;
  readonly fetchCert?: boolean;
  readonly controllerName: string;
  readonly controllerNamespace: string;
  readonly kubeconfig?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly scope?: (typeof SCOPES)[number];
  readonly raw?: boolean;
  readonly fromFile: readonly string[];
  readonly format: (typeof OUTPUT_FORMATS)[number];
  /** True when -o was given, not defaulted. */
  readonly formatGiven: boolean;
  readonly secretFile?: string;
  readonly sealedSecretFile?: string;
  readonly mergeInto?: string;
  readonly allowEmptyData?: boolean;
  readonly validate?: boolean;
  readonly reEncrypt?: boolean;
  readonly privateKey: readonly string[];
  readonly recoveryUnseal?: boolean;
  readonly recoveryPrivateKey: readonly string[];
  readonly apiversion: (typeof SEALED_SECRET_API_VERSIONS)[number];
}

const DESCRIPTION =
  "Seal a Secret (YAML or JSON, one or many documents, on stdin or -f) into a SealedSecret " +
  "that only the controller holding the private key can open, bound to the Secret's name and " +
  "namespace (strict scope), its namespace (namespace-wide) or nothing (cluster-wide). Flags " +
  "and output are those of kubeseal, so scripts keep working.";

const MIGRATION = `
Certificate: --cert FILE|URL, else $GITOPS_GUARD_CERT, else $SEALED_SECRETS_CERT, else the
controller through the API server (--controller-name, --controller-namespace, --kubeconfig).

Coming from kubeseal: the flags are the same. Differences: the default apiVersion is
gitops-guard.io/v1alpha1 (--apiversion bitnami.com/v1alpha1 writes Bitnami's kind); the
default controller is ${DEFAULT_CONTROLLER_NAMESPACE}/${DEFAULT_CONTROLLER_NAME}; --merge-into
keeps the target's scope and file format; --validate and --re-encrypt also work offline with
--private-key; a value that does not open says why (renamed, moved, scope changed, other key).`;

function collect(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
}

export function addSealCommand(program: Command, deps: ProgramDeps): void {
  program
    .command("seal")
    .description(DESCRIPTION)
    .option("--cert <file|url>", "certificate to seal with (file, http(s):// or file:// URL)")
    .option("--fetch-cert", "print the controller's certificate, for later use with --cert")
    .option("--controller-name <name>", "name of the controller's Service", DEFAULT_CONTROLLER_NAME)
    .option(
      "--controller-namespace <ns>",
      "namespace of the controller",
      DEFAULT_CONTROLLER_NAMESPACE,
    )
    .option(
      "--kubeconfig <file>",
      "kubeconfig for the online paths (default: $KUBECONFIG, ~/.kube/config)",
    )
    .option(
      "-n, --namespace <ns>",
      "namespace of the Secret (fills a missing one; must not contradict it)",
    )
    .option("--name <name>", "name of the Secret (required with --raw in strict scope)")
    .addOption(
      new Option(
        "--scope <scope>",
        "sealing scope; default: the Secret's scope annotations",
      ).choices(SCOPES),
    )
    .option("--raw", "seal one raw value (--from-file or stdin) and print it base64-encoded")
    .option("--from-file <[key=]file>", "with --raw: the file holding the value", collect, [])
    .addOption(
      new Option("-o, --format <format>", "output format").choices(OUTPUT_FORMATS).default("json"),
    )
    .option("-f, --secret-file <file>", "input file (default: stdin)")
    .option(
      "-w, --sealed-secret-file <file>",
      "output file, replaced atomically (.yaml/.yml: YAML)",
    )
    .option("--merge-into <file>", "seal the input's items into this SealedSecret file, in place")
    .option("--allow-empty-data", "seal a Secret without data")
    .option(
      "--validate",
      "check that SealedSecrets open: through the controller, or offline with --private-key",
    )
    .option(
      "--re-encrypt",
      "re-encrypt SealedSecrets with the newest key: through the controller, or offline with --private-key",
    )
    .option(
      "--private-key <files>",
      "offline --validate / --re-encrypt: PEM keys or a key backup (comma-separated)",
      collect,
      [],
    )
    .option(
      "--recovery-unseal",
      "print the Secrets of SealedSecrets, opened with --recovery-private-key",
    )
    .option(
      "--recovery-private-key <files>",
      "PEM keys or a key backup List, comma-separated",
      collect,
      [],
    )
    .addOption(
      new Option("--apiversion <gv>", "apiVersion of the SealedSecrets written")
        .choices(SEALED_SECRET_API_VERSIONS)
        .default(SEALED_SECRET_API_VERSIONS[0]),
    )
    .addHelpText("after", MIGRATION)
    .action(async (_options: unknown, command: Command) => {
      const flags: SealFlags = {
        ...command.opts<Omit<SealFlags, "formatGiven">>(),
        formatGiven: command.getOptionValueSource("format") === "cli",
      };
      const { runSeal } = await import("./seal-run.js");
      await runSeal(flags, cliIo(deps));
    });
}
