/**
 * `gitops-guard diff NAMESPACE/NAME`: what a sync of that GitSync would change now, live
 * against Git. Loads the reconciler's code only when run.
 */
import { type Command, Option } from "commander";
import type { ProgramDeps } from "./program.js";

export interface DiffFlags {
  readonly kubeconfig?: string;
  readonly namespace?: string;
  readonly git: string;
  readonly kustomize: string;
  readonly helm: string;
  readonly output: "text" | "json";
  readonly as?: string;
  readonly asGroup?: string[];
  /** The controller's --default-service-account, to act as the account a sync would. */
  readonly defaultServiceAccount?: string;
  readonly controllerNamespace: string;
}

const HELP = `
Fetches and renders the GitSync's revision as a sync would, asks the API server for a dry-run
of every apply (as field manager gitops-guard), and prints a unified diff per object against
the live cluster, and what prune would delete. A Secret's values are never printed.

Identities, as the controller's: fetching and rendering read the GitSync's Secrets (Git
credentials, SOPS keys, valuesFrom) as you; the dry-runs and live reads act as the GitSync's
account (spec.serviceAccountName, else --default-service-account in the GitSync's namespace;
pass the controller's value, the chart's is "default"), which you must be allowed to
impersonate, so RBAC and admission answer as for the sync itself. A GitSync in
--controller-namespace that names no account, or any that names none without a default, acts
as you: add --as the reconciler (system:serviceaccount:gitops-guard-system:gitops-guard-reconciler)
to see what the sync would do. --as overrides every request. Which identity the dry-runs used
is printed on stderr.

Exit status: 0 the cluster equals Git, 1 they differ, 2 the diff could not be made.`;

export function addDiffCommand(program: Command, deps: ProgramDeps): void {
  program
    .command("diff")
    .description("Show what a sync of a GitSync would change, live against Git.")
    .argument("<gitsync>", "the GitSync, as NAMESPACE/NAME (or NAME with -n)")
    .option("-n, --namespace <ns>", "the GitSync's namespace")
    .option("--kubeconfig <file>", "kubeconfig (default: $KUBECONFIG, ~/.kube/config)")
    .option("--git <path>", "the git binary", "git")
    .option("--kustomize <path>", "the kustomize binary", "kustomize")
    .option("--helm <path>", "the helm binary (v4), for GitSyncs that render a chart", "helm")
    .option("--as <user>", "impersonate this user (as kubectl --as)")
    .option("--as-group <group...>", "impersonate these groups (as kubectl --as-group)")
    .option(
      "--default-service-account <name>",
      "the controller's default account for GitSyncs that name none (the chart's: default)",
    )
    .option(
      "--controller-namespace <ns>",
      "the controller's namespace (its GitSyncs act as the reconciler)",
      "gitops-guard-system",
    )
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["text", "json"])
        .default("text"),
    )
    .addHelpText("after", HELP)
    .action(async (target: string, flags: DiffFlags) => {
      const { runDiff } = await import("./diff-run.js");
      await runDiff(target, flags, deps);
    });
}
