// The pure parts of rendering a chart: spec.helm, merging values as helm does, errors that name
// a values source without quoting it, and Helm's hooks as the reconciler's phases.
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chartCopy } from "../../src/reconciler/helm/copy.js";
import { ErrorCodes } from "../../src/errors.js";
import { mapHelmHooks } from "../../src/reconciler/helm/hooks.js";
import { resolveEntry } from "../../src/reconciler/helm/repository.js";
import { parseValues } from "../../src/reconciler/helm/sources.js";
import { parseHelmSpec } from "../../src/reconciler/helm/spec.js";
import { mergeValues, valuesDigest } from "../../src/reconciler/helm/values.js";
import type { RenderedObject } from "../../src/reconciler/render/manifests.js";

function rendered(
  kind: string,
  name: string,
  annotations?: Record<string, string>,
): RenderedObject {
  return {
    object: {
      apiVersion: kind === "Job" ? "batch/v1" : "v1",
      kind,
      metadata: { name, ...(annotations === undefined ? {} : { annotations }) },
    },
    source: "charts/app (helm template)",
    line: 0,
  };
}

describe("spec.helm", () => {
  it("fills the defaults and names the field it refuses", () => {
    expect(parseHelmSpec(undefined)).toBeUndefined();
    expect(parseHelmSpec({})).toEqual({
      valueFiles: [],
      valuesFrom: [],
      includeCRDs: true,
      skipTests: true,
      postRenderPatches: [],
    });
    expect(() => parseHelmSpec({ postRender: { patches: [{ target: {} }] } })).toThrow(
      "spec.helm.postRender.patches must be a list of {patch, target}",
    );
    expect(
      parseHelmSpec({ valuesFrom: [{ kind: "ConfigMap", name: "v" }], includeCRDs: false })
        ?.valuesFrom,
    ).toEqual([{ kind: "ConfigMap", name: "v", key: "values.yaml", optional: false }]);
    expect(() => parseHelmSpec({ valuesFrom: [{ kind: "Pod", name: "p" }] })).toThrow(
      "spec.helm.valuesFrom[0] needs kind (Secret or ConfigMap) and name",
    );
    expect(() => parseHelmSpec({ values: ["a"] })).toThrow("spec.helm.values must be a map");
    expect(() => parseHelmSpec({ valueFiles: [""] })).toThrow("spec.helm.valueFiles");
  });
});

describe("values", () => {
  it("merge as helm does: later wins, maps deeply, lists replaced, null kept to drop a default", () => {
    const merged = mergeValues([
      { image: { repository: "web", tag: "1" }, list: [1, 2], keep: "a", drop: "x" },
      { image: { tag: "2" }, list: [3] },
      { drop: null, extra: { a: 1 } },
    ]);
    expect(merged).toEqual({
      image: { repository: "web", tag: "2" },
      list: [3],
      keep: "a",
      drop: null,
      extra: { a: 1 },
    });
  });

  it("have a digest that does not depend on key order", () => {
    expect(valuesDigest({ a: 1, b: { c: 2, d: 3 } })).toBe(
      valuesDigest({ b: { d: 3, c: 2 }, a: 1 }),
    );
    expect(valuesDigest({ a: 1 })).not.toBe(valuesDigest({ a: 2 }));
    expect(valuesDigest({ a: 1 })).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("name the source and line of bad YAML without quoting it", () => {
    const secret = "password: [hunter2-very-secret";
    let thrown: unknown;
    try {
      parseValues(`a: 1\n${secret}\n`, "spec.helm.valuesFrom Secret db key values.yaml");
    } catch (err: unknown) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: ErrorCodes.RENDER_HELM_VALUES_INVALID });
    expect(String(thrown)).toContain(
      "spec.helm.valuesFrom Secret db key values.yaml: not valid YAML",
    );
    expect(String(thrown)).not.toContain("hunter2");
    expect(() => parseValues("- a\n- b\n", "env/prod.yaml")).toThrow(
      "env/prod.yaml: values must be a map of keys",
    );
    expect(parseValues("", "empty.yaml")).toEqual({});
  });
});

describe("Helm hooks", () => {
  it("become PreSync and PostSync by weight with their delete policies, and tests and delete hooks are left out", () => {
    const out = mapHelmHooks([
      rendered("ConfigMap", "plain"),
      rendered("Job", "migrate", {
        "helm.sh/hook": "pre-install,pre-upgrade",
        "helm.sh/hook-weight": "5",
      }),
      rendered("ServiceAccount", "migrator", {
        "helm.sh/hook": "pre-upgrade",
        "helm.sh/hook-weight": "-5",
      }),
      rendered("Job", "notify", {
        "helm.sh/hook": "post-install",
        "helm.sh/hook-weight": "2",
        "helm.sh/hook-delete-policy": "hook-succeeded, hook-failed,unknown-to-helm",
      }),
      rendered("Pod", "test", { "helm.sh/hook": "test" }),
      rendered("Job", "cleanup", { "helm.sh/hook": "pre-delete" }),
      rendered("Secret", "kept", { "helm.sh/resource-policy": "keep" }),
    ]);
    const view = out.map((r) => [
      r.object.metadata.name,
      r.object.metadata.annotations?.["gitops-guard.io/hook"],
      r.object.metadata.annotations?.["gitops-guard.io/sync-wave"],
      r.object.metadata.annotations?.["gitops-guard.io/prune"],
      r.object.metadata.annotations?.["gitops-guard.io/hook-delete-policy"],
    ]);
    expect(view).toEqual([
      ["plain", undefined, undefined, undefined, undefined],
      // No policy in the chart: Helm's default, before-hook-creation.
      ["migrate", "PreSync", "5", undefined, "BeforeHookCreation"],
      ["migrator", "PreSync", "-5", undefined, "BeforeHookCreation"],
      ["notify", "PostSync", "2", undefined, "HookSucceeded,HookFailed"],
      ["kept", undefined, undefined, "disabled", undefined],
    ]);
  });
});

describe("the copy a chart is rendered from", () => {
  it("leaves out .git and links that leave the repository (helm would load them into .Files)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gg-chart-copy-"));
    try {
      const repo = join(dir, "repo");
      mkdirSync(join(repo, "chart", "files"), { recursive: true });
      mkdirSync(join(repo, ".git"));
      writeFileSync(join(repo, ".git", "config"), "[core]\n");
      writeFileSync(join(repo, "chart", "Chart.yaml"), "name: c\n");
      writeFileSync(join(repo, "shared.txt"), "inside\n");
      writeFileSync(join(dir, "outside-token"), "pod token\n");
      symlinkSync(join(dir, "outside-token"), join(repo, "chart", "files", "token"));
      symlinkSync("../../shared.txt", join(repo, "chart", "files", "shared.txt"));
      const copy = await chartCopy(repo, join(dir, "scratch"));
      expect(existsSync(join(copy.root, "chart", "Chart.yaml"))).toBe(true);
      expect(existsSync(join(copy.root, "chart", "files", "shared.txt"))).toBe(true);
      expect(existsSync(join(copy.root, "chart", "files", "token"))).toBe(false);
      expect(existsSync(join(copy.root, ".git"))).toBe(false);
      await copy.remove();
      expect(existsSync(copy.root)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a chart repository's index", () => {
  const index = {
    entries: {
      app: ["1.0.0", "1.1.0", "1.10.2", "2.0.0", "2.1.0-rc.1"].map((version) => ({
        version,
        urls: [`app-${version}.tgz`],
        digest: "ab".repeat(32),
      })),
    },
  };
  const pick = (version: string): string => resolveEntry(index, "app", version, "idx").version;

  it("resolves an exact version, or a range (helm's syntax too) to the newest match", () => {
    expect(pick("1.1.0")).toBe("1.1.0");
    expect(pick("v1.1.0")).toBe("1.1.0");
    expect(pick("^1.0")).toBe("1.10.2");
    expect(pick("~1.1")).toBe("1.1.0");
    expect(pick(">=1.0.0, <2.0.0")).toBe("1.10.2");
    expect(pick("1.x")).toBe("1.10.2");
    expect(pick("*")).toBe("2.0.0");
    expect(pick(">=2.1.0-rc.0")).toBe("2.1.0-rc.1");
  });

  it("names what it cannot find", () => {
    expect(() => pick("^3")).toThrow('chart repository idx: has no version of app matching "^3"');
    expect(() => resolveEntry(index, "web", "1.0.0", "idx")).toThrow("has no chart named web");
    expect(() => resolveEntry({}, "app", "1.0.0", "idx")).toThrow("has no chart named app");
  });
});
