// Lint budgets are errors, never warnings: complexity, depth, params, file length and
// un-awaited promises fail the build. Layer rules keep the architecture in DESIGN.md honest.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const components = ["admission", "secrets", "reconciler", "auditor"];
const sharedLayers = ["kube", "runtime", "telemetry", "http", "crypto", "presets"];

const clientNodeBan = {
  name: "@kubernetes/client-node",
  message: "Only src/kube/ may import @kubernetes/client-node.",
};

/** Patterns that forbid importing the given folders from a file in src/<from>/. */
function folderBans(folders, why) {
  return folders.map((folder) => ({
    group: [`../${folder}/*`, `../../${folder}/*`, `src/${folder}/*`],
    message: why,
  }));
}

export default tseslint.config(
  { ignores: ["dist/", "coverage/", "node_modules/", "test/envtest/tools/", "charts/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      complexity: ["error", 10],
      "max-depth": ["error", 3],
      "max-params": ["error", 4],
      "max-lines": ["error", { max: 300, skipBlankLines: true, skipComments: true }],
      "no-restricted-syntax": [
        "error",
        {
          selector: "TSEnumDeclaration",
          message: "Use a union of literals or an as-const object.",
        },
        { selector: "TSModuleDeclaration[kind='namespace']", message: "Use ES modules." },
      ],
      "@typescript-eslint/explicit-module-boundary-types": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { ignoreRestSiblings: true, argsIgnorePattern: "^_" },
      ],
    },
  },
  {
    files: ["src/**/*.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        {
          object: "process",
          property: "env",
          message: "Only src/config.ts reads the environment.",
        },
        {
          object: "process",
          property: "argv",
          message: "Only src/config.ts and src/cli read argv.",
        },
        { object: "Date", property: "now", message: "Take time from the injected Clock." },
      ],
      "no-restricted-imports": ["error", { paths: [clientNodeBan] }],
    },
  },
  { files: ["src/config.ts", "src/cli/**/*.ts"], rules: { "no-restricted-properties": "off" } },
  { files: ["src/runtime/clock.ts"], rules: { "no-restricted-properties": "off" } },
  { files: ["src/kube/**/*.ts"], rules: { "no-restricted-imports": "off" } },
  ...components.map((component) => ({
    files: [`src/${component}/**/*.ts`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [clientNodeBan],
          patterns: folderBans(
            components.filter((c) => c !== component),
            "Components never import each other: move what they share into a shared layer.",
          ),
        },
      ],
    },
  })),
  ...sharedLayers.map((layer) => ({
    files: [`src/${layer}/**/*.ts`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: layer === "kube" ? [] : [clientNodeBan],
          patterns: folderBans(components, "Shared layers never import a component."),
        },
      ],
    },
  })),
  {
    files: ["test/**/*.ts", "*.config.ts"],
    rules: {
      "max-lines": ["error", { max: 400, skipBlankLines: true, skipComments: true }],
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  { files: ["**/*.js", "**/*.mjs"], ...tseslint.configs.disableTypeChecked },
);
