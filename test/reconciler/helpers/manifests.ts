// Small manifest builders for the reconciler's tests (YAML text, as a repository holds it).
import { stringify } from "yaml";

export function yaml(...docs: object[]): string {
  return docs.map((d) => stringify(d)).join("---\n");
}

export function configMap(
  name: string,
  data: Record<string, string>,
  extra: { namespace?: string; annotations?: Record<string, string> } = {},
): object {
  const metadata: Record<string, unknown> = { name };
  if (extra.namespace !== undefined) metadata["namespace"] = extra.namespace;
  if (extra.annotations !== undefined) metadata["annotations"] = extra.annotations;
  return { apiVersion: "v1", kind: "ConfigMap", metadata, data };
}

/**
 * A Deployment. Its Pods run on the test control plane's fake Nodes and become Ready, unless
 * the image contains "crashloop" (CRASHLOOP_IMAGE): then they never do
 * (test/envtest/kwok-stages.yaml).
 */
export function deployment(
  name: string,
  replicas: number,
  annotations: Record<string, string> = {},
  image = "registry.example/app:1",
): object {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, annotations },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image }] },
      },
    },
  };
}

/**
 * A Job. On the test control plane's fake Nodes its Pod exits 0 after a second and the Job
 * completes; with a CRASHLOOP_IMAGE the Pod exits 1 and the Job fails. podAnnotations reach the
 * Pod: envtest.gitops-guard.io/run-for ("5s") makes it run longer (test/envtest/kwok-stages.yaml).
 */
export function job(
  name: string,
  annotations: Record<string, string> = {},
  image = "registry.example/migrate:1",
  podAnnotations?: Record<string, string>,
): object {
  const spec = { restartPolicy: "Never", containers: [{ name: "migrate", image }] };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, annotations },
    spec: {
      backoffLimit: 0,
      template:
        podAnnotations === undefined
          ? { spec }
          : { metadata: { annotations: podAnnotations }, spec },
    },
  };
}

/** An image whose containers crash on the fake Nodes: Pods never Ready, Job Pods fail. */
export const CRASHLOOP_IMAGE = "registry.example/app:crashloop";
