/**
 * `helm template` of a chart folder (helm v4, the binary shipped beside kustomize): the release
 * name and namespace, CRDs included or not, the cluster's version and API versions as the
 * chart's Capabilities, and the merged values on stdin (never in a file, an argument or a log).
 * Local `file://` dependencies missing from charts/ are built first (`helm dependency build`).
 */
import { execFile, type ExecFileException } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { ErrorCodes, GuardError } from "../../errors.js";
import { parseManifests, type RenderedObject } from "../render/manifests.js";

export interface HelmSettings {
  /** The helm binary: a path, or a name looked up on searchPath. */
  readonly helm: string;
  readonly searchPath: string;
  /** An empty HOME of ours: no user's repositories, plugins or registry logins. */
  readonly homeDir: string;
  readonly timeoutMs: number;
  /** Where chart archives fetched from repositories are kept, by version and digest. */
  readonly cacheDir: string;
  readonly signal?: AbortSignal;
}

/** What `lookup`-free charts may know of the cluster: .Capabilities. */
export interface ClusterFacts {
  /** "v1.35.4" as the API server's /version says; absent: helm's own default. */
  readonly kubeVersion?: string;
  /** "apps/v1", "monitoring.coreos.com/v1", ... */
  readonly apiVersions: readonly string[];
}

export interface TemplateInput {
  /** The chart folder (in a private copy of the checkout). */
  readonly chartDir: string;
  /** How errors and rendered objects name it: the chart's path in the repository. */
  readonly display: string;
  readonly releaseName: string;
  readonly namespace: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly includeCRDs: boolean;
  readonly skipTests: boolean;
  readonly cluster: ClusterFacts;
}

// Helm's errors are one line ("Error: ..."); its debug hints are noise.
function why(stderr: string, fallback: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("Use --debug"));
  return (lines.find((l) => l.startsWith("Error:")) ?? lines[0] ?? fallback).slice(0, 2000);
}

function run(
  settings: HelmSettings,
  args: readonly string[],
  stdin: string | undefined,
  display: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      settings.helm,
      args,
      {
        env: { PATH: settings.searchPath, HOME: settings.homeDir, LANG: "C", HELM_NO_PLUGINS: "1" },
        signal: settings.signal,
        timeout: settings.timeoutMs,
        maxBuffer: 256 * 1024 * 1024,
        encoding: "utf8",
      },
      (err: ExecFileException | null, stdout, stderr) => {
        if (err === null) {
          resolve(stdout);
          return;
        }
        const fallback = err.killed
          ? `stopped after ${String(settings.timeoutMs)} ms`
          : err.message;
        reject(
          new GuardError(
            ErrorCodes.RENDER_HELM_FAILED,
            `${display} (helm ${args[0] ?? ""}) failed: ${why(stderr, fallback)}`,
            {
              cause: err,
            },
          ),
        );
      },
    );
    child.stdin?.end(stdin ?? "");
  });
}

interface Dependency {
  readonly name?: unknown;
  readonly alias?: unknown;
}

/** Whether Chart.yaml lists dependencies that charts/ does not hold yet. */
async function missingDependencies(chartDir: string): Promise<boolean> {
  const chart = parse(await readFile(join(chartDir, "Chart.yaml"), "utf8")) as {
    dependencies?: Dependency[];
  } | null;
  const wanted = (chart?.dependencies ?? []).map((d) => (typeof d.name === "string" ? d.name : ""));
  if (wanted.length === 0) return false;
  let present: string[] = [];
  try {
    present = await readdir(join(chartDir, "charts"));
  } catch {
    return true;
  }
  return wanted.some((name) => !present.some((p) => p === name || p.startsWith(`${name}-`)));
}

export async function helmTemplate(
  input: TemplateInput,
  settings: HelmSettings,
): Promise<RenderedObject[]> {
  // An archive from a repository carries its dependencies already.
  if (!input.chartDir.endsWith(".tgz") && (await missingDependencies(input.chartDir))) {
    await run(
      settings,
      ["dependency", "build", input.chartDir, "--skip-refresh"],
      undefined,
      input.display,
    );
  }
  const args = [
    "template",
    input.releaseName,
    input.chartDir,
    "--namespace",
    input.namespace,
    ...(input.cluster.kubeVersion === undefined
      ? []
      : ["--kube-version", input.cluster.kubeVersion]),
    ...input.cluster.apiVersions.flatMap((v) => ["--api-versions", v]),
    ...(input.includeCRDs ? ["--include-crds"] : ["--skip-crds"]),
    ...(input.skipTests ? ["--skip-tests"] : []),
    "--values",
    "-",
  ];
  const out = await run(settings, args, JSON.stringify(input.values), input.display);
  const source = `${input.display} (helm template)`;
  // Lines of helm's output point nowhere in the repository: report the chart only.
  return parseManifests(out, source).map((item) => ({ ...item, line: 0 }));
}
