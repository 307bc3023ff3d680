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

export function deployment(
  name: string,
  replicas: number,
  annotations: Record<string, string> = {},
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
        spec: { containers: [{ name: "app", image: "registry.example/app:1" }] },
      },
    },
  };
}

export function job(
  name: string,
  annotations: Record<string, string> = {},
  image = "registry.example/migrate:1",
): object {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, annotations },
    spec: {
      backoffLimit: 0,
      template: {
        spec: { restartPolicy: "Never", containers: [{ name: "migrate", image }] },
      },
    },
  };
}
