/** locate(): where an object lives in Git, from the GitSyncs' status.inventory. */
import { describe, expect, it } from "vitest";
import { buildLocator, commitOf } from "../../src/admission/inventory-index.js";
import type { KubeObject } from "../../src/kube/objects.js";

function gitSync(
  name: string,
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
): KubeObject {
  return {
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GitSync",
    metadata: { name, namespace: "apps" },
    spec,
    status,
  };
}

describe("buildLocator", () => {
  it("locates the objects of a chart that stands alone (no spec.url) at its chart repository", () => {
    const cm = { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "settings" };
    const chart = gitSync(
      "chart",
      { helm: { chart: { repoURL: "https://charts.example", name: "web", version: "1.2.3" } } },
      { inventory: [cm] },
    );
    expect(buildLocator([chart])(cm)).toEqual({
      gitSync: { namespace: "apps", name: "chart" },
      url: "https://charts.example",
      path: "web",
    });
  });

  const web = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" };
  const shop = gitSync(
    "shop",
    { url: "https://git.example/shop.git", path: "deploy" },
    {
      lastAppliedRevision: "main@sha1:4f1c2a9e0b7d",
      inventory: [web, { apiVersion: "v1", kind: "Namespace", name: "shop" }, { kind: "broken" }],
    },
  );

  it("finds an object by group, kind, namespace and name, whatever version the request used", () => {
    const locate = buildLocator([shop]);
    const expected = {
      gitSync: { namespace: "apps", name: "shop" },
      url: "https://git.example/shop.git",
      path: "deploy",
      revision: "4f1c2a9e0b7d",
    };
    expect(locate(web)).toEqual(expected);
    expect(locate({ ...web, apiVersion: "apps/v1beta2" })).toEqual(expected);
    expect(locate({ apiVersion: "v1", kind: "Namespace", name: "shop" })).toMatchObject({
      path: "deploy",
    });
    expect(locate({ ...web, name: "api" })).toBeUndefined();
    expect(locate({ ...web, apiVersion: "extensions/v1beta1" })).toBeUndefined();
  });

  it("prefers an entry's own file, defaults the path to the repository root, and picks a stable owner", () => {
    const other = gitSync(
      "a-first",
      { url: "ssh://git@git.example/infra.git" },
      { inventory: [{ ...web, path: "web.yaml" }] },
    );
    const locate = buildLocator([shop, other, gitSync("no-url", {}, { inventory: [web] })]);
    expect(locate(web)).toEqual({
      gitSync: { namespace: "apps", name: "a-first" },
      url: "ssh://git@git.example/infra.git",
      path: "web.yaml",
    });
    expect(commitOf("plain")).toBe("plain");
  });
});
