/** The HelmContext of one render: the GitSync's spec.helm, the tools, and its value sources. */
import { ErrorCodes, GuardError } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import type { KubeObject } from "../../kube/objects.js";
import type { HelmContext } from "./render.js";
import type { HelmSpec, ValuesSource } from "./spec.js";
import { clusterFacts } from "./cluster.js";
import type { HelmSettings } from "./template.js";
import type { KustomizeSettings } from "../render/kustomize.js";
import { postRender } from "./post-render.js";
import type { RenderCache } from "./render-cache.js";
import { pullFromOci } from "./oci.js";
import { pullFromRepository, type RepoCredentials } from "./repository.js";

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

/** What helmContext takes from the sync's environment and request (structurally). */
export interface HelmEnvironment {
  readonly kube: KubeClient;
  readonly helm: Omit<HelmSettings, "signal">;
  readonly helmRenders?: RenderCache;
  readonly kustomize: Omit<KustomizeSettings, "signal">;
  readonly scratchDir: string;
}

export interface HelmRequest {
  readonly namespace: string;
  readonly name: string;
  readonly spec: { readonly helm?: HelmSpec };
  readonly signal: AbortSignal;
}

export function helmContext(env: HelmEnvironment, req: HelmRequest, commit: string): HelmContext {
  const { kube } = env;
  const gitSync = { namespace: req.namespace, name: req.name };
  const settings = { ...env.helm, signal: req.signal };
  return {
    gitSync,
    ...(req.spec.helm === undefined ? {} : { spec: req.spec.helm }),
    settings,
    commit,
    ...(env.helmRenders === undefined ? {} : { cache: env.helmRenders }),
    cluster: () => clusterFacts(kube.rest),
    readSource: (source) => readValuesSource(kube, gitSync.namespace, source),
    postRender: (items, spec) =>
      postRender(
        items,
        { patches: spec.postRenderPatches },
        { ...env.kustomize, signal: req.signal },
        env.scratchDir,
      ),
    pull: async (chart) => {
      const creds = await repoCredentials(kube, gitSync.namespace, chart.secretName);
      if (chart.repoURL.startsWith("oci://")) return pullFromOci(chart, creds, settings);
      return pullFromRepository(chart, creds, settings);
    },
  };
}

/** The chart repository's credentials from the Secret spec.helm.chart.secretRef names. */
async function repoCredentials(
  kube: KubeClient,
  namespace: string,
  name: string | undefined,
): Promise<RepoCredentials> {
  if (name === undefined) return {};
  const secret = await kube.get<DataObject>({ apiVersion: "v1", kind: "Secret", namespace, name });
  if (secret === undefined) {
    throw new GuardError(
      ErrorCodes.RENDER_HELM_FAILED,
      `Secret ${namespace}/${name} (spec.helm.chart.secretRef) does not exist`,
    );
  }
  const entry = (key: string): string | undefined => {
    const value = secret.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
  };
  const pick = (key: keyof RepoCredentials, from: string): Partial<RepoCredentials> => {
    const value = entry(from);
    return value === undefined ? {} : { [key]: value };
  };
  return {
    ...pick("username", "username"),
    ...pick("password", "password"),
    ...pick("bearerToken", "bearerToken"),
    ...pick("caPem", "ca.crt"),
  };
}
