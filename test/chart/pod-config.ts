/**
 * A rendered Deployment's container as the program in the image sees it: its args and
 * environment (downward-API fields resolved) through the real CLI and src/config.ts.
 */
import { buildProgram } from "../../src/cli/program.js";
import type { Config } from "../../src/config.js";
import type { KubeObject } from "../../src/kube/objects.js";

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef: { fieldPath: string } };
}

interface Container {
  image: string;
  args: string[];
  env: EnvVar[];
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string }[];
}

export interface PodSpec {
  serviceAccountName: string;
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes: Record<string, unknown>[];
  affinity?: Record<string, unknown>;
}

export function podOf(deployment: KubeObject): PodSpec {
  return (deployment["spec"] as { template: { spec: PodSpec } }).template.spec;
}

/**
 * The Config the first container's command line and environment produce, as pod "pod-0";
 * extraArgs are appended (a test points the pod at its kubeconfig and a free port).
 */
export async function configOf(
  deployment: KubeObject,
  extraArgs: readonly string[] = [],
): Promise<Config> {
  const [container] = podOf(deployment).containers;
  const fields: Record<string, string> = {
    "metadata.name": "pod-0",
    "metadata.namespace": deployment.metadata.namespace ?? "",
  };
  const env = Object.fromEntries(
    container!.env.map((v) => [v.name, v.value ?? fields[v.valueFrom!.fieldRef.fieldPath]]),
  );
  let config: Config | undefined;
  const program = buildProgram({
    env,
    hostname: "node-host",
    run: (c) => {
      config = c;
      return Promise.resolve();
    },
  });
  await program.parseAsync(["node", "gitops-guard", ...container!.args, ...extraArgs]);
  if (config === undefined) throw new Error("the container's command did not reach `run`");
  return config;
}
