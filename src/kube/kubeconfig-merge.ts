/**
 * kubectl's rule for a list of kubeconfig files (client-go's clientcmd loading rules): the first
 * file to name a cluster, a user or a context wins that entry whole, and the first file to set
 * current-context sets it. Pure and free of the Kubernetes client, so the offline commands
 * (seal reading its default namespace from the context) read a list as `run` does.
 */
import { delimiter } from "node:path";

/**
 * The files a KUBECONFIG-style list names, as kubectl reads it: split on the path delimiter
 * (":", ";" on Windows), empty entries skipped. Anything but a string names none.
 */
export function kubeconfigList(value: unknown): string[] {
  return typeof value === "string" ? value.split(delimiter).filter((file) => file !== "") : [];
}

export interface KubeconfigParts<C, U, X> {
  readonly clusters: readonly C[];
  readonly users: readonly U[];
  readonly contexts: readonly X[];
  readonly currentContext: string | undefined;
}

interface Named {
  readonly name: string;
}

function firstByName<T extends Named>(lists: readonly (readonly T[])[]): T[] {
  const byName = new Map<string, T>();
  for (const item of lists.flat()) if (!byName.has(item.name)) byName.set(item.name, item);
  return [...byName.values()];
}

/** The files merged, in the order given (KUBECONFIG's order). */
export function mergeKubeconfigs<C extends Named, U extends Named, X extends Named>(
  files: readonly KubeconfigParts<C, U, X>[],
): KubeconfigParts<C, U, X> {
  return {
    clusters: firstByName(files.map((f) => f.clusters)),
    users: firstByName(files.map((f) => f.users)),
    contexts: firstByName(files.map((f) => f.contexts)),
    currentContext: files
      .map((f) => f.currentContext)
      .find((name) => name !== undefined && name !== ""),
  };
}
