/**
 * Real third-party Go tools for tests, built from the Go module proxy at pinned versions by
 * build-go-tool.sh, once, into the user's cache folder. The first call on a fresh machine
 * builds (about a minute); later calls only hash the pins and return the cached binary.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

interface GoTool {
  /** The folder of the go.mod that pins the tool, relative to this file. */
  readonly module: string;
  readonly package: string;
}

const TOOLS = {
  kubeseal: { module: "kubeseal", package: "github.com/bitnami-labs/sealed-secrets/cmd/kubeseal" },
  gotemplate: { module: "kubeseal", package: "./gotemplate" },
  sops: { module: "sops", package: "github.com/getsops/sops/v3/cmd/sops" },
  kustomize: { module: "kustomize", package: "sigs.k8s.io/kustomize/kustomize/v5" },
  alertmanager: {
    module: "alertmanager",
    package: "github.com/prometheus/alertmanager/cmd/alertmanager",
  },
} as const satisfies Record<string, GoTool>;

export type GoToolName = keyof typeof TOOLS;

/** Long enough for a first build on a 2-core machine, downloads included. */
export const GO_TOOL_BUILD_TIMEOUT_MS = 600_000;

/** Builds the tool unless cached, and returns the path of its binary. */
export function ensureGoTool(name: GoToolName): string {
  const tool: GoTool = TOOLS[name];
  const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
  const out = execFileSync(
    "bash",
    [here("./build-go-tool.sh"), here(`./${tool.module}`), tool.package, name],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: GO_TOOL_BUILD_TIMEOUT_MS },
  );
  const path = out.trim().split("\n").at(-1);
  if (path === undefined || path === "")
    throw new Error(`build-go-tool.sh printed no path for ${name}`);
  return path;
}

/** Every tool above, built in turn (the test run's global setup calls it once). */
export function ensureAllGoTools(): void {
  for (const name of Object.keys(TOOLS) as GoToolName[]) ensureGoTool(name);
}
