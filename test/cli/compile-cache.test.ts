import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileCacheDirectory } from "../../src/cli/compile-cache.js";
import { workdir } from "./harness.js";

describe("compileCacheDirectory", () => {
  it("takes Node's own NODE_COMPILE_CACHE first", () => {
    const env = { NODE_COMPILE_CACHE: "/srv/cache", XDG_CACHE_HOME: "/x" };
    expect(compileCacheDirectory(env, "linux", "/home/ada")).toBe("/srv/cache");
  });

  it("uses XDG_CACHE_HOME, else ~/.cache, on Linux and other Unixes", () => {
    expect(compileCacheDirectory({ XDG_CACHE_HOME: "/x" }, "linux", "/home/ada")).toBe(
      "/x/gitops-guard/compile-cache",
    );
    expect(compileCacheDirectory({}, "linux", "/home/ada")).toBe(
      "/home/ada/.cache/gitops-guard/compile-cache",
    );
    expect(compileCacheDirectory({ XDG_CACHE_HOME: "" }, "freebsd", "/home/ada")).toBe(
      "/home/ada/.cache/gitops-guard/compile-cache",
    );
  });

  it("ignores a relative XDG_CACHE_HOME, as the XDG base directory rules say", () => {
    expect(compileCacheDirectory({ XDG_CACHE_HOME: "cache" }, "linux", "/home/ada")).toBe(
      "/home/ada/.cache/gitops-guard/compile-cache",
    );
  });

  it("uses ~/Library/Caches on macOS and LOCALAPPDATA on Windows", () => {
    expect(compileCacheDirectory({ XDG_CACHE_HOME: "/x" }, "darwin", "/Users/ada")).toBe(
      "/Users/ada/Library/Caches/gitops-guard/compile-cache",
    );
    expect(compileCacheDirectory({ LOCALAPPDATA: "D:\\Local" }, "win32", "C:\\Users\\ada")).toBe(
      "D:\\Local\\gitops-guard\\compile-cache",
    );
    expect(compileCacheDirectory({}, "win32", "C:\\Users\\ada")).toBe(
      "C:\\Users\\ada\\AppData\\Local\\gitops-guard\\compile-cache",
    );
  });

  it("has no folder without an absolute home: never one relative to where the CLI runs", () => {
    expect(compileCacheDirectory({}, "linux", "")).toBeUndefined();
    expect(compileCacheDirectory({ XDG_CACHE_HOME: "rel" }, "linux", "rel")).toBeUndefined();
  });
});

describe("the executable's compile cache", () => {
  const root = resolve(import.meta.dirname, "../..");
  const files = workdir("compile-cache");

  /** `gitops-guard --version` (Node 24, tsx) with only PATH, HOME and `extra` set. */
  function version(home: string, extra: Record<string, string> = {}): void {
    const result = spawnSync("node", ["--import", "tsx", "src/cli/bin.ts", "--version"], {
      cwd: root,
      encoding: "utf8",
      env: {
        PATH: `${resolve(root, "node_modules/.bin")}${delimiter}${process.env.PATH ?? ""}`,
        HOME: home,
        ...extra,
      },
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  }

  it("is written to the user's cache folder", () => {
    const home = files.path("home");
    version(home);
    const cache = join(home, ".cache/gitops-guard/compile-cache");
    // Node keeps one folder per Node version and V8 flags in it.
    const [perVersion] = readdirSync(cache);
    expect(perVersion).toContain(process.version);
    expect(readdirSync(join(cache, perVersion ?? "")).length).toBeGreaterThan(0);
  });

  it("is off with NODE_DISABLE_COMPILE_CACHE", () => {
    const home = files.path("disabled");
    version(home, { NODE_DISABLE_COMPILE_CACHE: "1" });
    expect(existsSync(join(home, ".cache/gitops-guard/compile-cache"))).toBe(false);
  });
});
