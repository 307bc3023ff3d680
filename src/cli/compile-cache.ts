/**
 * Where the executable keeps V8's compile cache (`module.enableCompileCache`): the code V8
 * compiled for the CLI's modules on an earlier run, so a later run skips parsing and compiling
 * them (docs/benchmarks.md, "CLI start-up"). Node's own NODE_COMPILE_CACHE wins when set;
 * otherwise a gitops-guard folder in the user's cache folder, where each platform keeps one.
 * Node itself honours NODE_DISABLE_COMPILE_CACHE and skips a folder it cannot write.
 */
import { posix, win32 } from "node:path";
import type { Environment } from "../config.js";

function userCacheFolder(env: Environment, platform: NodeJS.Platform, home: string): string[] {
  const path = platform === "win32" ? win32 : posix;
  const inHome = (...parts: string[]): string => (home === "" ? "" : path.join(home, ...parts));
  if (platform === "win32") return [env.LOCALAPPDATA ?? "", inHome("AppData", "Local")];
  if (platform === "darwin") return [inHome("Library", "Caches")];
  // The XDG base directory rule: XDG_CACHE_HOME when it is an absolute path, else ~/.cache.
  return [env.XDG_CACHE_HOME ?? "", inHome(".cache")];
}

/**
 * The compile cache's folder, or undefined when there is no absolute one to use (no home
 * folder): a relative path would put the cache in whatever folder the user runs the CLI from.
 */
export function compileCacheDirectory(
  env: Environment,
  platform: NodeJS.Platform,
  home: string,
): string | undefined {
  const own = env.NODE_COMPILE_CACHE;
  if (own !== undefined && own !== "") return own;
  const path = platform === "win32" ? win32 : posix;
  const base = userCacheFolder(env, platform, home).find((dir) => path.isAbsolute(dir));
  return base === undefined ? undefined : path.join(base, "gitops-guard", "compile-cache");
}
