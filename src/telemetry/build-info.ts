import { readFileSync } from "node:fs";

export interface BuildInfo {
  readonly version: string;
  /** The Node.js version running the process, e.g. "v24.21.0". */
  readonly node: string;
}

/**
 * The package version, from package.json two levels above this module: that is the package
 * root both for src/telemetry (run with tsx) and for dist/telemetry (built).
 */
export function packageVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  const pkg: unknown = JSON.parse(text);
  if (
    typeof pkg === "object" &&
    pkg !== null &&
    "version" in pkg &&
    typeof pkg.version === "string"
  ) {
    return pkg.version;
  }
  throw new Error("package.json has no version");
}

export function readBuildInfo(): BuildInfo {
  return { version: packageVersion(), node: process.version };
}
