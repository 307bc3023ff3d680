/**
 * Real third-party Helm charts as their projects ship them inside their Go modules (the chart
 * folder of the module's zip), fetched by `go mod download` at a pinned version: the go command
 * checks the zip against the Go checksum database and keeps it in GOMODCACHE, so only the first
 * run on a machine downloads. helmTemplateObjects runs the real `helm template` of such a chart
 * with the arguments the reconciler passes (release, namespace, values in order, the cluster's
 * version and API versions, CRDs included, tests skipped), to compare the cluster with it.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../../src/kube/objects.js";
import type { ClusterFacts } from "../../../src/reconciler/helm/template.js";
import { KUBE_YAML } from "../../../src/reconciler/render/kube-yaml.js";
import { ensureHelm } from "./kustomize.js";

export interface ThirdPartyChart {
  /** The Go module and its exact version (a pseudo-version where the project tags no semver). */
  readonly module: string;
  readonly version: string;
  /** go.sum's h1: hash of the module zip: the download must be these exact bytes. */
  readonly sum: string;
  /** The chart folder inside the module. */
  readonly path: string;
  /** Chart.yaml's name and version there. */
  readonly chart: string;
  readonly chartVersion: string;
}

export const THIRD_PARTY_CHARTS = {
  // ingress-nginx tags releases as controller-vX / helm-chart-X, which are no module versions:
  // the proxy serves the module at this pseudo-version (main of 2024-07-08, chart 4.11.0).
  ingressNginx: {
    module: "k8s.io/ingress-nginx",
    version: "v0.0.0-20240708192948-52c50467d67d",
    sum: "h1:tZui5g6S4GO1hxLm6yrEoIXLkl4QfeGytlmZqZ+DmdQ=",
    path: "charts/ingress-nginx",
    chart: "ingress-nginx",
    chartVersion: "4.11.0",
  },
  // cert-manager's release tool stamps the chart's version when it packages it; the source tree
  // (hence the module) says v0.0.0.
  certManager: {
    module: "github.com/cert-manager/cert-manager",
    version: "v1.21.2",
    sum: "h1:UWgoYM+KLNtRlqmoWOKjKBOBUPVHeepQ6/ac3ERJW68=",
    path: "deploy/charts/cert-manager",
    chart: "cert-manager",
    chartVersion: "v0.0.0",
  },
} as const satisfies Record<string, ThirdPartyChart>;

/** Long enough for a cold download of a module zip (a few MB) and its checksum check. */
const DOWNLOAD_TIMEOUT_MS = 300_000;

const moduleDirs = new Map<string, string>();

/** The module's folder in GOMODCACHE, downloaded and verified on first use. */
function moduleDir(chart: ThirdPartyChart): string {
  const pin = `${chart.module}@${chart.version}`;
  const known = moduleDirs.get(pin);
  if (known !== undefined) return known;
  // Outside any go.mod (the project's tool folders have their own), so the pin alone decides.
  const out = execFileSync("go", ["mod", "download", "-json", pin], {
    cwd: tmpdir(),
    env: { ...process.env, GO111MODULE: "on", GOWORK: "off" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: DOWNLOAD_TIMEOUT_MS,
  });
  const info = JSON.parse(out) as { Dir?: string; Sum?: string; Error?: string };
  if (info.Error !== undefined) throw new Error(`go mod download ${pin}: ${info.Error}`);
  if (info.Sum !== chart.sum) {
    throw new Error(`go mod download ${pin}: sum ${String(info.Sum)}, pinned ${chart.sum}`);
  }
  if (info.Dir === undefined) throw new Error(`go mod download ${pin} named no folder`);
  moduleDirs.set(pin, info.Dir);
  return info.Dir;
}

/** The chart folder (read-only, in GOMODCACHE). */
export function chartFolder(chart: ThirdPartyChart): string {
  return join(moduleDir(chart), chart.path);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(entry.parentPath, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

/** Every file of the chart folder by its path in the module, for GitRepo.commit. */
export function chartFiles(chart: ThirdPartyChart): Record<string, string> {
  const root = moduleDir(chart);
  return Object.fromEntries(
    filesUnder(chartFolder(chart)).map((file) => [
      relative(root, file),
      readFileSync(file, "utf8"),
    ]),
  );
}

/** Helm's output as objects, read as the API server's clients read YAML. */
export function parseKubeYaml(text: string): KubeObject[] {
  // As the reconciler and kubectl read it (src/reconciler/render/kube-yaml.ts).
  const docs = parseAllDocuments(text, { ...KUBE_YAML, uniqueKeys: true });
  return docs.flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`helm template output: ${doc.errors[0]?.message}`);
    const value = doc.toJS({ maxAliasCount: 100 }) as KubeObject | null;
    return value === null ? [] : [value];
  });
}

export interface TemplateRun {
  readonly chartDir: string;
  readonly releaseName: string;
  readonly namespace: string;
  /** Values as YAML texts, merged by helm in this order (`--values` once each). */
  readonly values: readonly string[];
  readonly cluster: ClusterFacts;
}

/** The real `helm template` with the reconciler's arguments, parsed into objects. */
export function helmTemplateObjects(run: TemplateRun): KubeObject[] {
  const work = mkdtempSync(join(tmpdir(), "gg-third-party-"));
  try {
    const valueArgs = run.values.flatMap((text, i) => {
      const file = join(work, `values-${String(i)}.yaml`);
      writeFileSync(file, text);
      return ["--values", file];
    });
    const { kubeVersion, apiVersions } = run.cluster;
    const args = [
      "template",
      run.releaseName,
      run.chartDir,
      "--namespace",
      run.namespace,
      ...(kubeVersion === undefined ? [] : ["--kube-version", kubeVersion]),
      ...apiVersions.flatMap((v) => ["--api-versions", v]),
      "--include-crds",
      "--skip-tests",
      ...valueArgs,
    ];
    const out = execFileSync(ensureHelm(), args, {
      env: { PATH: process.env["PATH"] ?? "", HOME: work, LANG: "C", HELM_NO_PLUGINS: "1" },
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      stdio: ["ignore", "pipe", "pipe"],
    });
    return parseKubeYaml(out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Hooks the reconciler runs (as PreSync or after the last wave); it leaves out the others. */
const RUN_HOOKS = new Set(["pre-install", "pre-upgrade", "post-install", "post-upgrade"]);

/** What the reconciler applies of a chart: no test, delete or rollback hooks. */
export function appliedByReconciler(objects: readonly KubeObject[]): KubeObject[] {
  return objects.filter((obj) => {
    const hooks = (obj.metadata.annotations?.["helm.sh/hook"] ?? "")
      .split(",")
      .map((h) => h.trim())
      .filter((h) => h !== "");
    return hooks.length === 0 || hooks.some((h) => RUN_HOOKS.has(h));
  });
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Go's omitempty: the API server stores no field for these. */
function isZero(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  if (isMap(value)) return Object.keys(value).length === 0;
  return value === null || value === "" || value === false || value === 0;
}

const show = (v: unknown): string => (v === undefined ? "(absent)" : JSON.stringify(v));

/**
 * Where live differs from want, read as a subset: every field want sets has the same value in
 * live (lists element by element, same length); live may hold more (defaults the API server
 * adds). A zero value in want matches an absent field (the API server drops empty fields).
 */
export function subsetMismatches(want: unknown, live: unknown, at = ""): string[] {
  if (live === undefined && isZero(want)) return [];
  if (Array.isArray(want)) {
    if (!Array.isArray(live) || live.length !== want.length) {
      return [`${at}: want ${show(want)}, live ${show(live)}`];
    }
    return want.flatMap((w, i) => subsetMismatches(w, live[i], `${at}[${String(i)}]`));
  }
  if (isMap(want)) {
    if (!isMap(live)) return [`${at}: want a map, live ${show(live)}`];
    return Object.entries(want).flatMap(([key, w]) =>
      subsetMismatches(w, live[key], `${at}.${key}`),
    );
  }
  return Object.is(want, live) ? [] : [`${at}: want ${show(want)}, live ${show(live)}`];
}

/** The metadata the reconciler adds to what it applies. */
const RECONCILER_LABELS = new Set([
  "gitops-guard.io/gitsync-name",
  "gitops-guard.io/gitsync-namespace",
]);
/** Annotations the API server's controllers write. */
const SERVER_ANNOTATIONS = new Set(["deployment.kubernetes.io/revision"]);

/**
 * Labels and annotations on the live object that the chart did not set: none but the
 * reconciler's own (its two labels, gitops-guard.io/ annotations) and the controllers'.
 */
export function foreignMetadata(want: KubeObject, live: KubeObject): string[] {
  const labels = Object.keys(live.metadata.labels ?? {}).filter(
    (k) => want.metadata.labels?.[k] === undefined && !RECONCILER_LABELS.has(k),
  );
  const annotations = Object.keys(live.metadata.annotations ?? {}).filter(
    (k) =>
      want.metadata.annotations?.[k] === undefined &&
      !k.startsWith("gitops-guard.io/") &&
      !SERVER_ANNOTATIONS.has(k),
  );
  return [...labels.map((k) => `label ${k}`), ...annotations.map((k) => `annotation ${k}`)];
}
