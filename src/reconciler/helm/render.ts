/**
 * A chart in the checkout (spec.path holds Chart.yaml) rendered with helm: values from their
 * sources, a private copy of the repository to render from, Helm's hooks as the reconciler's
 * phases. What comes out is applied, inventoried, pruned, guarded and audited like any manifest.
 */
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parse } from "yaml";
import type { RenderedObject } from "../render/manifests.js";
import type { SopsFiles } from "../render/sops.js";
import { chartCopy } from "./copy.js";
import { RenderCache } from "./render-cache.js";
import { mapHelmHooks } from "./hooks.js";
import { collectValues } from "./sources.js";
import type { PulledChart } from "./repository.js";
import type { ChartSource, HelmSpec, ValuesSource } from "./spec.js";
import {
  helmTemplate,
  type ClusterFacts,
  type HelmSettings,
  type TemplateInput,
} from "./template.js";
import { valuesDigest } from "./values.js";

/** What a sync knows for helm: the GitSync, its spec.helm, and the tools. */
export interface HelmContext {
  readonly gitSync: { readonly namespace: string; readonly name: string };
  readonly spec?: HelmSpec;
  readonly settings: HelmSettings;
  readonly cluster: () => Promise<ClusterFacts>;
  readonly readSource: (source: ValuesSource) => Promise<string | undefined>;
  /** Fetches spec.helm.chart (once per version and digest). */
  readonly pull: (chart: ChartSource) => Promise<PulledChart>;
  /** Runs spec.helm.postRender.patches over what helm rendered. */
  readonly postRender: (items: RenderedObject[], spec: HelmSpec) => Promise<RenderedObject[]>;
  /** The commit of the checkout (values files and a chart in Git come from it). */
  readonly commit: string;
  /** Renders kept across syncs: an unchanged chart, spec, values and cluster run no helm. */
  readonly cache?: RenderCache;
}

/** helm template, unless the cache holds a render with the same inputs. */
async function templateOnce(
  helm: HelmContext,
  inputs: Readonly<Record<string, unknown>>,
  render: () => Promise<RenderedObject[]>,
): Promise<RenderedObject[]> {
  const owner = `${helm.gitSync.namespace}/${helm.gitSync.name}`;
  const key = RenderCache.key(inputs);
  const hit = helm.cache?.get(owner, key);
  if (hit !== undefined) return hit;
  const items = await render();
  helm.cache?.set(owner, key, items);
  return items;
}

export interface ChartRender {
  readonly items: RenderedObject[];
  /** Chart.yaml's name and version. */
  readonly chart: { readonly chart: string; readonly version: string };
  /** sha256 of the merged values: status and the journal show it, never the values. */
  readonly valuesDigest: string;
}

/** Chart.yaml's name and version (what status reports for a chart in Git). */
async function chartMetadata(chartDir: string): Promise<{ chart: string; version: string }> {
  const meta = parse(await readFile(join(chartDir, "Chart.yaml"), "utf8")) as Record<
    string,
    unknown
  > | null;
  const text = (v: unknown): string =>
    typeof v === "string" || typeof v === "number" ? String(v) : "";
  return { chart: text(meta?.["name"]), version: text(meta?.["version"]) };
}

/**
 * Objects a chart leaves without a namespace go to the release's, as `helm install` puts them
 * (the reconciler drops it again from cluster-scoped kinds).
 */
function inRelease(items: readonly RenderedObject[], namespace: string): RenderedObject[] {
  return items.map((item) =>
    item.object.metadata.namespace === undefined
      ? { ...item, object: { ...item.object, metadata: { ...item.object.metadata, namespace } } }
      : item,
  );
}

const NO_HELM_SPEC: HelmSpec = {
  valueFiles: [],
  valuesFrom: [],
  includeCRDs: true,
  skipTests: true,
  postRenderPatches: [],
};

/** What `helm template` is told whichever source the chart comes from. */
function release(
  spec: HelmSpec,
  helm: HelmContext,
  values: Record<string, unknown>,
  cluster: ClusterFacts,
): Omit<TemplateInput, "chartDir" | "display"> {
  return {
    releaseName: spec.releaseName ?? helm.gitSync.name,
    namespace: spec.namespace ?? helm.gitSync.namespace,
    values,
    includeCRDs: spec.includeCRDs,
    skipTests: spec.skipTests,
    cluster,
  };
}

/** spec.helm with its defaults, and the values merged from their sources. */
async function specAndValues(input: {
  readonly root: string;
  readonly helm: HelmContext;
  readonly sops?: SopsFiles;
}): Promise<{ spec: HelmSpec; values: Record<string, unknown> }> {
  const spec = input.helm.spec ?? NO_HELM_SPEC;
  const values = await collectValues({
    root: input.root,
    spec,
    ...(input.sops === undefined ? {} : { sops: input.sops }),
    readSource: input.helm.readSource,
  });
  return { spec, values };
}

/**
 * spec.helm.chart: the chart fetched from its repository; values files (if any) from the
 * checkout of spec.url as for a chart in Git (Argo CD's multi-source pattern).
 */
export async function renderRepoChart(input: {
  readonly root: string;
  readonly chart: ChartSource;
  readonly helm: HelmContext;
  readonly sops?: SopsFiles;
}): Promise<ChartRender & { readonly pulled: PulledChart }> {
  const { helm } = input;
  const { spec, values } = await specAndValues(input);
  const pulled = await helm.pull(input.chart);
  const cluster = await helm.cluster();
  const template = {
    ...release(spec, helm, values, cluster),
    chartDir: pulled.archive,
    display: `${input.chart.name}-${pulled.version} from ${input.chart.repoURL}`,
  };
  const inputs = { archive: pulled.digest, spec, values, cluster, release: template.releaseName };
  const items = await templateOnce(helm, inputs, async () =>
    helm.postRender(await helmTemplate(template, helm.settings), spec),
  );
  return {
    items: inRelease(mapHelmHooks(items), template.namespace),
    chart: { chart: input.chart.name, version: pulled.version },
    valuesDigest: valuesDigest(values),
    pulled,
  };
}

export async function renderChart(input: {
  /** The checkout's root (its real path) and the chart folder in it. */
  readonly root: string;
  readonly chartDir: string;
  readonly helm: HelmContext;
  readonly sops?: SopsFiles;
  readonly scratchDir: string;
}): Promise<ChartRender> {
  const { helm } = input;
  const { spec, values } = await specAndValues(input);
  const cluster = await helm.cluster();
  const display = relative(input.root, input.chartDir) || ".";
  const inputs = { commit: helm.commit, path: display, spec, values, cluster };
  const common = release(spec, helm, values, cluster);
  const items = await templateOnce(helm, inputs, async () => {
    const copy = await chartCopy(input.root, input.scratchDir);
    try {
      const template = { ...common, chartDir: `${copy.root}/${display}`, display };
      return await helm.postRender(await helmTemplate(template, helm.settings), spec);
    } finally {
      await copy.remove();
    }
  });
  return {
    items: inRelease(mapHelmHooks(items), common.namespace),
    chart: await chartMetadata(input.chartDir),
    valuesDigest: valuesDigest(values),
  };
}
