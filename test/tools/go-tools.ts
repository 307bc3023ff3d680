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
 * our pin folders do not list. benchOnly tools are built by the benchmarks that use them, never
 * by ensureAllGoTools: no test needs them, and each costs a minute or more on a cold machine.
 */
interface InstalledGoTool {
  readonly package: string;
  readonly version: string;
  readonly install: true;
  readonly benchOnly: boolean;
  /** `-X` settings a release build makes (its Makefile), beyond the "-s -w" every build gets. */
  readonly ldflags?: readonly string[];
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
    install: true,
    benchOnly: true,
  },
  // The chart's tests (test/chart/): helm lint and helm template. Helm's module pins over a
  // hundred dependencies that no folder of ours lists, hence `go install` (about 5 min cold on
  // 2 busy cores, downloads included).
  helm: {
    package: "helm.sh/helm/v4/cmd/helm",
    version: "v4.3.2",
    install: true,
    benchOnly: false,
    // As helm's Makefile sets them for a release: without, the version reads "v4.3". Unlike v3,
    // v4 has no -X for the Kubernetes version helm lint and template assume: it takes it from
    // the k8s.io/client-go version in the binary's build info (v0.37.2 at v4.3.2, so 1.37),
    // which `go install` records. Below 1.30 helm template refuses the chart (kubeVersion).
    ldflags: [
      "-X helm.sh/helm/v4/internal/version.version=v4.3.2",
      "-X helm.sh/helm/v4/internal/version.gitTreeState=clean",
    ],
  },
  // The reference OCI registry, for charts from oci:// (test/reconciler/helm-oci.int.test.ts).
  // Its go.mod has no replace directives, but it pins the cloud storage drivers' SDKs (Azure,
  // GCS, S3, Redis): a pin folder of ours would copy a go.sum of hundreds of lines, while
  // `go install` checks the module's own go.sum against the checksum database (2 min cold).
  distribution: {
    package: "github.com/distribution/distribution/v3/cmd/registry",
    version: "v3.1.2",
    install: true,
    benchOnly: false,
  },
} as const satisfies Record<string, GoTool | InstalledGoTool>;

export type GoToolName = keyof typeof TOOLS;

/** Long enough for a first build on a 2-core machine, downloads included. */
export const GO_TOOL_BUILD_TIMEOUT_MS = 600_000;

/** Builds the tool unless cached, and returns the path of its binary. */
export function ensureGoTool(name: GoToolName): string {
  const tool: GoTool | InstalledGoTool = TOOLS[name];
  if ("install" in tool) return installGoTool(name, tool);
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
function installGoTool(name: string, tool: InstalledGoTool): string {
  const pin = `${tool.package}@${tool.version}`;
  const ldflags = ["-s -w", ...(tool.ldflags ?? [])].join(" ");
  const key = createHash("sha256")
    .update(`${pin}\ntrimpath,${ldflags},CGO_ENABLED=0`)
    .digest("hex");
  const cacheRoot = process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache");
  const dir = join(cacheRoot, "gitops-guard", "tools", key.slice(0, 16));
  const out = join(dir, name);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const gobin = mkdtempSync(join(dir, `.${name}.`));
  try {
    process.stderr.write(`go-tools: go install ${pin} into ${out} (first run only)\n`);
    execFileSync("go", ["install", "-trimpath", "-ldflags", ldflags, pin], {
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
  for (const [name, tool] of Object.entries(TOOLS) as [GoToolName, GoTool | InstalledGoTool][]) {
    if (!("benchOnly" in tool && tool.benchOnly)) ensureGoTool(name);
  }
}
