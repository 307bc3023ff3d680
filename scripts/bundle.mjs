// `npm run build` writes dist/ with esbuild, as the image and the npm package ship it: the
// executable dist/cli/bin.js, the unseal worker and the chunks they import on demand, all in
// dist/cli/ (`node scripts/bundle.mjs [OUTDIR]`, default dist). A few files instead of one per
// module take less time to load at start-up (docs/benchmarks.md, "CLI start-up"); tsc then
// type-checks without emitting. What is bundled:
// - every module under src/, split at the dynamic imports, so `seal` still loads neither the
//   service nor the Kubernetes client;
// - the packages the offline commands load, where loading many small files is what costs:
//   commander (every command) and yaml (YAML input and output, 74 files).
// Every other package stays in node_modules and loads from there as before: their own file
// lookups (pino's transport workers, for one) keep working, and the image keeps its
// `npm ci --omit=dev`.
//
// A bundled module's import.meta.url is its chunk's (dist/cli/<chunk>.js), not its own file's.
// The uses listed in IMPORT_META are correct there; any other use fails the build.
import { readFileSync, rmSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { basename, join, resolve } from "node:path";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUNDLED_PACKAGES = new Set(["commander", "yaml"]);

/** Sources that may use import.meta, each with why its value is right from dist/cli/. */
const IMPORT_META = new Map([
  ["src/telemetry/build-info.ts", "../../package.json is the package root from dist/cli/ too"],
  ["src/secrets/unseal-pool.ts", "./unseal-worker.js: an entry point below, in dist/cli/ too"],
  ["src/config.ts", 'createRequire(import.meta.url)("ajv") finds node_modules from dist/cli/'],
]);

const builtins = new Set(builtinModules);

/** The npm package a bare import names: "yaml", "@aws-sdk/client-kms", ... */
function packageName(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/**
 * An ES module that re-exports a bundled package's names, for `await import(PACKAGE)`: split
 * into its own chunk, a CommonJS package (yaml) would otherwise offer only a default export,
 * where Node gives the named ones too. The names are the package's own, read here.
 */
function reExports(specifier) {
  const names = Object.keys(createRequire(join(ROOT, "package.json"))(specifier)).filter(
    (name) => name !== "default" && /^[A-Za-z_$][\w$]*$/.test(name),
  );
  const lib = JSON.stringify(specifier);
  return `import * as lib from ${lib};\nexport const { ${names.join(", ")} } = lib;\n`;
}

/**
 * Keeps every package but BUNDLED_PACKAGES external, and Node's built-in modules. An ES module
 * has no require(), so a bundled CommonJS package (yaml) gets its built-in modules from
 * process.getBuiltinModule, the same objects require() returns.
 */
const externalPackages = {
  name: "external-packages",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      const name = packageName(args.path.replace(/^node:/, ""));
      if (args.path.startsWith("node:") || builtins.has(name)) {
        if (args.kind !== "require-call") return { path: args.path, external: true };
        return { path: `node:${args.path.replace(/^node:/, "")}`, namespace: "builtin" };
      }
      if (!BUNDLED_PACKAGES.has(name)) return { path: args.path, external: true };
      if (args.kind === "dynamic-import") return { path: args.path, namespace: "re-export" };
      return undefined;
    });
    build.onLoad({ filter: /./, namespace: "builtin" }, (args) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
    build.onLoad({ filter: /./, namespace: "re-export" }, (args) => ({
      contents: reExports(args.path),
      loader: "js",
      resolveDir: ROOT,
    }));
  },
};

/** The sources in the bundle that use import.meta without being listed in IMPORT_META. */
function unexpectedImportMeta(inputs) {
  return Object.keys(inputs)
    .filter((input) => input.startsWith("src/") && !IMPORT_META.has(input))
    .filter((input) => readFileSync(join(ROOT, input), "utf8").includes("import.meta"));
}

async function bundle(outdir) {
  // It is emptied first: a folder of any other name is refused rather than deleted.
  if (basename(outdir) !== "dist") throw new Error(`${outdir}: the output folder must be a dist/`);
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [
      { in: "src/cli/bin.ts", out: "bin" },
      { in: "src/secrets/unseal-worker.ts", out: "unseal-worker" },
    ],
    outdir: join(outdir, "cli"),
    chunkNames: "[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    sourcemap: "linked",
    sourcesContent: false,
    metafile: true,
    plugins: [externalPackages],
    logLevel: "warning",
  });
  const unexpected = unexpectedImportMeta(result.metafile.inputs);
  if (unexpected.length > 0) {
    rmSync(outdir, { recursive: true, force: true });
    throw new Error(
      `import.meta in ${unexpected.join(", ")}: bundled, it is the chunk's in dist/cli/, not ` +
        "the source file's. Compute the value elsewhere, or add the file to IMPORT_META in " +
        "scripts/bundle.mjs once it is right from dist/cli/.",
    );
  }
  const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js"));
  process.stdout.write(`bundled ${join(outdir, "cli")}: ${files.length} files\n`);
}

await bundle(resolve(ROOT, process.argv[2] ?? "dist"));
