/**
 * Real third-party Go tools for tests, built from the Go module proxy at pinned versions by
 * build-go-tool.sh, once, into the user's cache folder. The first call on a fresh machine
 * builds (about a minute); later calls only hash the pins and return the cached binary.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

interface GoTool {
  /** The folder of the go.mod that pins the tool, relative to this file. */
  readonly module: string;
  readonly package: string;
}

/**
 * A tool built with `go install PACKAGE@VERSION`, i.e. with the pins of its own module's go.mod
 * and go.sum (checked against the Go checksum database), for a main package whose dependencies
 * our pin folders do not list. Only the benchmarks build these: ensureAllGoTools skips them.
 */
interface BenchGoTool {
  readonly package: string;
  readonly version: string;
  readonly benchOnly: true;
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
  // Bitnami's own controller, for test/bench/secrets-vs-bitnami.bench.ts only (about a minute
  // to build). Same module and version as kubeseal, but its controller needs dependencies
  // (prometheus, throttled, klog...) that ./kubeseal/go.sum does not pin, hence `go install`.
  "bitnami-controller": {
    package: "github.com/bitnami-labs/sealed-secrets/cmd/controller",
    version: "v0.36.0",
    benchOnly: true,
  },
} as const satisfies Record<string, GoTool | BenchGoTool>;

export type GoToolName = keyof typeof TOOLS;

/** Long enough for a first build on a 2-core machine, downloads included. */
export const GO_TOOL_BUILD_TIMEOUT_MS = 600_000;

/** Builds the tool unless cached, and returns the path of its binary. */
export function ensureGoTool(name: GoToolName): string {
  const tool: GoTool | BenchGoTool = TOOLS[name];
  if ("benchOnly" in tool) return installGoTool(name, tool);
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

/** `go install PACKAGE@VERSION` once into the user's cache folder; later calls only stat. */
function installGoTool(name: string, tool: BenchGoTool): string {
  const pin = `${tool.package}@${tool.version}`;
  const key = createHash("sha256").update(`${pin}\ntrimpath,-s -w,CGO_ENABLED=0`).digest("hex");
  const cacheRoot = process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache");
  const dir = join(cacheRoot, "gitops-guard", "tools", key.slice(0, 16));
  const out = join(dir, name);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const gobin = mkdtempSync(join(dir, `.${name}.`));
  try {
    process.stderr.write(`go-tools: go install ${pin} into ${out} (first run only)\n`);
    execFileSync("go", ["install", "-trimpath", "-ldflags", "-s -w", pin], {
      env: { ...process.env, GOBIN: gobin, CGO_ENABLED: "0" },
      stdio: ["ignore", "inherit", "inherit"],
      timeout: GO_TOOL_BUILD_TIMEOUT_MS,
    });
    // Rename is atomic, so a concurrent caller sees either no binary or a whole one.
    renameSync(join(gobin, basename(tool.package)), out);
  } finally {
    rmSync(gobin, { recursive: true, force: true });
  }
  return out;
}

/**
 * Every tool the tests use, built in turn (the test run's global setup calls it once); the
 * bench-only tools are left out.
 */
export function ensureAllGoTools(): void {
  for (const [name, tool] of Object.entries(TOOLS) as [GoToolName, GoTool | BenchGoTool][]) {
    if (!("benchOnly" in tool)) ensureGoTool(name);
  }
}
