/**
 * spec.helm of a GitSync: how a chart is rendered (release, namespace, values and their
 * sources). Pure parsing with the CRD's defaults; input no retry can fix throws TerminalError
 * naming the field. Values themselves are never put in a message.
 */
import { TerminalError } from "../../runtime/result.js";

export interface ValuesSource {
  readonly kind: "Secret" | "ConfigMap";
  readonly name: string;
  /** The entry holding YAML values. Default values.yaml (Flux's valuesKey default). */
  readonly key: string;
  readonly optional: boolean;
}

/** spec.helm.chart: a chart from a chart repository instead of spec.path. */
export interface ChartSource {
  readonly repoURL: string;
  readonly name: string;
  /** An exact version or a semver range (the newest match). */
  readonly version: string;
  /** A Secret in the GitSync's namespace: username and password, or bearerToken; ca.crt. */
  readonly secretName?: string;
}

export interface HelmSpec {
  readonly chart?: ChartSource;
  /** Default: the GitSync's name. */
  readonly releaseName?: string;
  /** The release namespace (`helm template --namespace`). Default: the GitSync's. */
  readonly namespace?: string;
  /** Files in the Git repository (from its root), merged in order. */
  readonly valueFiles: readonly string[];
  readonly values?: Readonly<Record<string, unknown>>;
  readonly valuesFrom: readonly ValuesSource[];
  readonly includeCRDs: boolean;
  readonly skipTests: boolean;
  /** spec.helm.postRender.patches: Kustomize patches over the rendered objects. */
  readonly postRenderPatches: readonly Readonly<Record<string, unknown>>[];
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function parseValuesFrom(value: unknown): ValuesSource[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TerminalError("spec.helm.valuesFrom must be a list");
  return value.map((item: unknown, i) => {
    const entry = record(item);
    const kind = entry["kind"];
    const name = text(entry["name"]);
    if ((kind !== "Secret" && kind !== "ConfigMap") || name === undefined) {
      throw new TerminalError(
        `spec.helm.valuesFrom[${String(i)}] needs kind (Secret or ConfigMap) and name`,
      );
    }
    return {
      kind,
      name,
      key: text(entry["key"]) ?? "values.yaml",
      optional: entry["optional"] === true,
    };
  });
}

function parseValueFiles(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v !== "")) {
    throw new TerminalError("spec.helm.valueFiles must be a list of paths in the repository");
  }
  return value as string[];
}

function parseChart(value: unknown): ChartSource | undefined {
  if (value === undefined) return undefined;
  const chart = record(value);
  const repoURL = text(chart["repoURL"]);
  const name = text(chart["name"]);
  if (repoURL === undefined || name === undefined || !/^(https?|oci):\/\/./.test(repoURL)) {
    throw new TerminalError("spec.helm.chart needs repoURL (https://, http:// or oci://) and name");
  }
  const secretName = text(record(chart["secretRef"])["name"]);
  return {
    repoURL,
    name,
    version: text(chart["version"]) ?? "*",
    ...(secretName === undefined ? {} : { secretName }),
  };
}

function parsePatches(value: unknown): Record<string, unknown>[] {
  if (value === undefined) return [];
  const ok =
    Array.isArray(value) &&
    value.every(
      (p) =>
        typeof p === "object" && p !== null && typeof (p as { patch?: unknown }).patch === "string",
    );
  if (!ok)
    throw new TerminalError("spec.helm.postRender.patches must be a list of {patch, target}");
  return value as Record<string, unknown>[];
}

function parseInline(values: unknown): Record<string, unknown> | undefined {
  if (values === undefined) return undefined;
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw new TerminalError("spec.helm.values must be a map of values");
  }
  return values as Record<string, unknown>;
}

/** spec.helm, or undefined when the GitSync sets none (a chart at spec.path still renders). */
export function parseHelmSpec(value: unknown): HelmSpec | undefined {
  if (value === undefined || value === null) return undefined;
  const helm = record(value);
  const values = parseInline(helm["values"]);
  const releaseName = text(helm["releaseName"]);
  const namespace = text(helm["namespace"]);
  const chart = parseChart(helm["chart"]);
  return {
    ...(chart === undefined ? {} : { chart }),
    ...(releaseName === undefined ? {} : { releaseName }),
    ...(namespace === undefined ? {} : { namespace }),
    valueFiles: parseValueFiles(helm["valueFiles"]),
    ...(values === undefined ? {} : { values }),
    valuesFrom: parseValuesFrom(helm["valuesFrom"]),
    includeCRDs: helm["includeCRDs"] !== false,
    skipTests: helm["skipTests"] !== false,
    postRenderPatches: parsePatches(record(helm["postRender"])["patches"]),
  };
}
