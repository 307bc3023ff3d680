import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCodes, GuardError } from "../errors.js";
import { createKubeClient, type KubeClient } from "../kube/client.js";
import { gitSyncAccount, serviceAccountNameOf } from "../presets/gitsync-identity.js";
import type { GitSyncObject } from "../reconciler/gitsync.js";
import { GITSYNC } from "../reconciler/names.js";
import { previewGitSync, type Preview } from "../reconciler/preview/preview.js";
import type { SopsKmsSettings } from "../reconciler/render/sops.js";
import type { DiffFlags } from "./diff.js";
import { ExitStatus } from "./exit-status.js";
import { kubeconfigFiles } from "./kubeconfig.js";
import type { CliOutput, ProgramDeps } from "./program.js";

const TIMEOUT_MS = 120_000;

function parseTarget(
  target: string,
  namespace: string | undefined,
): { namespace: string; name: string } {
  const [first, second, ...rest] = target.split("/");
  if (
    rest.length === 0 &&
    second !== undefined &&
    first !== undefined &&
    first !== "" &&
    second !== ""
  ) {
    return { namespace: first, name: second };
  }
  if (second === undefined && first !== undefined && first !== "" && namespace !== undefined) {
    return { namespace, name: first };
  }
  throw new GuardError(
    ErrorCodes.DIFF_TARGET_INVALID,
    `diff: ${JSON.stringify(target)} is not NAMESPACE/NAME (or NAME with --namespace)`,
  );
}

/**
 * Who the dry-runs and live reads act as: --as if given (it already holds every request),
 * else the GitSync's account as the controller computes it, else the caller; and a line saying so.
 */
function actorFor(
  kube: KubeClient,
  gitSync: GitSyncObject,
  flags: DiffFlags,
): { actor: KubeClient; says: string } {
  if (flags.as !== undefined) return { actor: kube, says: `dry-run as ${flags.as} (--as)` };
  const account = gitSyncAccount(
    {
      namespace: gitSync.metadata.namespace ?? "",
      serviceAccountName: serviceAccountNameOf(gitSync),
    },
    {
      defaultServiceAccount: flags.defaultServiceAccount,
      controllerNamespace: flags.controllerNamespace,
    },
  );
  if (account === undefined) {
    return {
      actor: kube,
      says: "dry-run as you (the GitSync acts as the reconciler itself; add --as to see it)",
    };
  }
  return {
    actor: kube.impersonating({ user: account.username }),
    says: `dry-run as ${account.username} (the GitSync's account)`,
  };
}

function render(preview: Preview): string {
  const lines: string[] = [`revision ${preview.revision}`];
  for (const c of preview.changes) {
    if (c.action === "unchanged") continue;
    lines.push(`${c.action === "create" ? "+" : "~"} ${c.id}`, c.patch.trimEnd());
  }
  for (const id of preview.prunes) lines.push(`- ${id} (prune)`);
  for (const why of preview.refused) lines.push(`! ${why}`);
  const changed = preview.changes.filter((c) => c.action !== "unchanged").length;
  lines.push(
    `${String(changed)} to apply, ${String(preview.prunes.length)} to prune, ` +
      `${String(preview.changes.length - changed)} unchanged, ${String(preview.refused.length)} refused`,
  );
  return `${lines.join("\n")}\n`;
}

function differs(preview: Preview): boolean {
  return (
    preview.changes.some((c) => c.action !== "unchanged") ||
    preview.prunes.length > 0 ||
    preview.refused.length > 0
  );
}

/**
 * A person running diff decrypts KMS files as sops would for them: with their own AWS identity
 * when the GitSync's Secret has no sops.aws-kms entry, and AWS's endpoint variables.
 */
function cliSopsKms(env: ProgramDeps["env"]): SopsKmsSettings {
  const endpoint = env.AWS_ENDPOINT_URL_KMS ?? env.AWS_ENDPOINT_URL;
  const stsEndpoint = env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL;
  return {
    ambientCredentials: true,
    ...(endpoint === undefined || endpoint === "" ? {} : { endpoint }),
    ...(stsEndpoint === undefined || stsEndpoint === "" ? {} : { stsEndpoint }),
  };
}

async function preview(
  target: string,
  flags: DiffFlags,
  deps: ProgramDeps,
  work: string,
): Promise<Preview> {
  const out = outputOf(deps);
  const ref = parseTarget(target, flags.namespace);
  const kubeconfig = kubeconfigFiles(flags.kubeconfig, deps.env);
  const kube = createKubeClient({
    ...(kubeconfig === undefined ? {} : { kubeconfig }),
    ...(flags.as === undefined
      ? {}
      : { impersonate: { user: flags.as, groups: flags.asGroup ?? [] } }),
  });
  const gitSync = await kube.get<GitSyncObject>({ ...GITSYNC, ...ref });
  if (gitSync === undefined) {
    throw new GuardError(
      ErrorCodes.KUBE_NOT_FOUND,
      `GitSync ${ref.namespace}/${ref.name} does not exist`,
    );
  }
  const { actor, says } = actorFor(kube, gitSync, flags);
  out.writeErr(`${says}\n`);
  const searchPath = deps.env.PATH ?? "/usr/local/bin:/usr/bin:/bin";
  const home = join(work, "home");
  mkdirSync(home, { recursive: true });
  const env = {
    kube,
    actor,
    git: { git: flags.git, searchPath, stateDir: work, timeoutMs: TIMEOUT_MS },
    kustomize: { kustomize: flags.kustomize, searchPath, homeDir: home, timeoutMs: TIMEOUT_MS },
    helm: {
      helm: flags.helm,
      searchPath,
      homeDir: home,
      timeoutMs: TIMEOUT_MS,
      cacheDir: join(work, "helm-charts"),
    },
    scratchDir: join(work, "scratch"),
    sopsKms: cliSopsKms(deps.env),
  };
  try {
    return await previewGitSync(env, gitSync, AbortSignal.timeout(TIMEOUT_MS));
  } finally {
    if (actor !== kube) actor.rest.close();
  }
}

function outputOf(deps: ProgramDeps): CliOutput {
  return (
    deps.output ?? {
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    }
  );
}

export async function runDiff(target: string, flags: DiffFlags, deps: ProgramDeps): Promise<void> {
  const out = outputOf(deps);
  const work = mkdtempSync(join(tmpdir(), "gitops-guard-diff-"));
  let result: Preview;
  try {
    result = await preview(target, flags, deps, work);
  } catch (err: unknown) {
    throw new ExitStatus(2, err);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  out.writeOut(flags.output === "json" ? `${JSON.stringify(result, null, 2)}\n` : render(result));
  if (differs(result)) throw new ExitStatus(1);
}
