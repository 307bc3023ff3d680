/** The HelmContext of one render: the GitSync's spec.helm, the tools, and its value sources. */
import type { KubeClient } from "../../kube/client.js";
import type { KubeObject } from "../../kube/objects.js";
import type { HelmContext } from "./render.js";
import type { HelmSpec, ValuesSource } from "./spec.js";
import { clusterFacts } from "./cluster.js";
import type { HelmSettings } from "./template.js";

type DataObject = KubeObject & {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
};

/**
 * The entry of a Secret or ConfigMap in the GitSync's namespace, read as the controller (like
 * the Git and decryption Secrets); undefined when the object or the key is missing.
 */
export async function readValuesSource(
  kube: KubeClient,
  namespace: string,
  source: ValuesSource,
): Promise<string | undefined> {
  const obj = await kube.get<DataObject>({
    apiVersion: "v1",
    kind: source.kind,
    namespace,
    name: source.name,
  });
  if (obj === undefined) return undefined;
  const encoded = source.kind === "Secret" ? obj.data?.[source.key] : obj.binaryData?.[source.key];
  if (encoded !== undefined) return Buffer.from(encoded, "base64").toString("utf8");
  return source.kind === "ConfigMap" ? obj.data?.[source.key] : undefined;
}

export function helmContext(input: {
  readonly kube: KubeClient;
  readonly settings: HelmSettings;
  readonly gitSync: { readonly namespace: string; readonly name: string };
  readonly spec: HelmSpec | undefined;
}): HelmContext {
  const { kube, gitSync } = input;
  return {
    gitSync,
    ...(input.spec === undefined ? {} : { spec: input.spec }),
    settings: input.settings,
    cluster: () => clusterFacts(kube.rest),
    readSource: (source) => readValuesSource(kube, gitSync.namespace, source),
  };
}
