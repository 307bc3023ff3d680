/**
 * The one kubeconfig loader: `run` (Config.kubeconfig) and every CLI command that talks to the
 * API server build their client from it. A list of files is merged as kubectl merges KUBECONFIG.
 */
import { delimiter } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { ErrorCodes, GuardError, errorMessage } from "../errors.js";
import { mergeKubeconfigs } from "./kubeconfig-merge.js";

function invalid(message: string, cause?: unknown): GuardError {
  return new GuardError(
    ErrorCodes.KUBECONFIG_INVALID,
    message,
    cause === undefined ? {} : { cause },
  );
}

function inCluster(): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromCluster();
  } catch (err: unknown) {
    throw invalid(`cannot load the in-cluster config: ${errorMessage(err)}`, err);
  }
  return kc;
}

/** One file, its relative paths made absolute against its folder; undefined if skipped. */
function loadFile(file: string, skipMissing: boolean): KubeConfig | undefined {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
    return kc;
  } catch (err: unknown) {
    if (skipMissing && (err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw invalid(`cannot load kubeconfig ${file}: ${errorMessage(err)}`, err);
  }
}

function fromFiles(files: readonly string[]): KubeConfig {
  // A file named alone must exist; in a list, kubectl skips the missing ones.
  const loaded = files.flatMap((file) => loadFile(file, files.length > 1) ?? []);
  const [first] = loaded;
  if (first === undefined) {
    throw invalid(`cannot load kubeconfig ${files.join(delimiter)}: none of its files exists`);
  }
  if (loaded.length === 1) return first;
  const merged = mergeKubeconfigs(
    loaded.map((kc) => ({
      clusters: kc.clusters,
      users: kc.users,
      contexts: kc.contexts,
      // As parsed from YAML: undefined when the file sets none, whatever the typings say.
      currentContext: kc.currentContext || undefined,
    })),
  );
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: merged.clusters,
    users: merged.users,
    contexts: merged.contexts,
    currentContext: merged.currentContext,
  });
  return kc;
}

/**
 * The kubeconfig of these files (one path, or a list merged as kubectl does), or of the pod's
 * service account when there are none. Throws KUBECONFIG_INVALID naming what it could not use.
 */
export function loadKubeConfig(kubeconfig?: string | readonly string[]): KubeConfig {
  const files = typeof kubeconfig === "string" ? [kubeconfig] : kubeconfig;
  const kc = files === undefined ? inCluster() : fromFiles(files);
  if (kc.getCurrentCluster() === null) {
    throw invalid(`kubeconfig ${files?.join(delimiter) ?? "(in-cluster)"} has no current cluster`);
  }
  return kc;
}
