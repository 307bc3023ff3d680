import { describe, expect, it } from "vitest";
import { ErrorCodes } from "../../src/errors.js";
import type { KubeObject } from "../../src/kube/objects.js";
import {
  buildDesired,
  desiredKey,
  scopeKey,
  scopesFromCrds,
} from "../../src/reconciler/desired.js";
import { DesiredStateStore } from "../../src/reconciler/desired-store.js";
import { mergeInventory, readInventory } from "../../src/reconciler/inventory.js";
import type { RenderedObject } from "../../src/reconciler/render/manifests.js";

const item = (object: KubeObject, source = "a.yaml", line = 1): RenderedObject => ({
  object,
  source,
  line,
});
const cm = (name: string, namespace?: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: namespace === undefined ? { name } : { name, namespace },
});
const scopes = new Map([
  [scopeKey({ apiVersion: "v1", kind: "ConfigMap" }), true],
  [scopeKey({ apiVersion: "v1", kind: "Namespace" }), false],
]);
const owner = { namespace: "team", name: "apps" };

describe("desired objects", () => {
  it("places namespaced objects (own namespace, else the GitSync's) and labels their owner", () => {
    const [own, defaulted, ns] = buildDesired(
      [
        item(cm("a", "other")),
        item(cm("b")),
        item({ apiVersion: "v1", kind: "Namespace", metadata: { name: "x", namespace: "stray" } }),
      ],
      { owner, scopes },
    );
    expect(own?.ref).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: "other",
      name: "a",
    });
    expect(defaulted?.ref.namespace).toBe("team");
    expect(ns?.ref).toEqual({ apiVersion: "v1", kind: "Namespace", name: "x" });
    expect(own?.object.metadata.labels).toEqual({
      "gitops-guard.io/gitsync-name": "apps",
      "gitops-guard.io/gitsync-namespace": "team",
    });
  });

  it("moves every namespaced object to targetNamespace", () => {
    const [a] = buildDesired([item(cm("a", "other"))], { owner, scopes, targetNamespace: "prod" });
    expect(a?.ref.namespace).toBe("prod");
  });

  it("refuses an object defined twice, naming both places", () => {
    expect(() =>
      buildDesired([item(cm("a"), "x.yaml", 3), item(cm("a", "team"), "y.yaml", 9)], {
        owner,
        scopes,
      }),
    ).toThrow("ConfigMap team/a is defined twice: x.yaml:3 and y.yaml:9");
  });

  it("refuses a kind nobody serves, naming the file", () => {
    expect(() =>
      buildDesired(
        [item({ apiVersion: "x.io/v1", kind: "Thing", metadata: { name: "t" } }, "t.yaml", 4)],
        { owner, scopes },
      ),
    ).toThrow(
      expect.objectContaining({
        code: ErrorCodes.APPLY_KIND_UNKNOWN,
        message: expect.stringMatching(
          /^t\.yaml:4: the API server does not serve Thing/,
        ) as unknown,
      }),
    );
  });

  it("learns the scope of kinds a CRD in the same render defines", () => {
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "widgets.x.io" },
      spec: {
        group: "x.io",
        scope: "Cluster",
        names: { kind: "Widget" },
        versions: [{ name: "v1" }, { name: "v2" }],
      },
    };
    expect(scopesFromCrds([item(crd)])).toEqual(
      new Map([
        ["x.io/v1/Widget", false],
        ["x.io/v2/Widget", false],
      ]),
    );
  });

  it("keys objects across API versions", () => {
    expect(
      desiredKey({ apiVersion: "apps/v1", kind: "Deployment", namespace: "a", name: "w" }),
    ).toBe("apps/Deployment/a/w");
    expect(desiredKey({ apiVersion: "v1", kind: "Namespace", name: "a" })).toBe("/Namespace//a");
  });
});

describe("inventory", () => {
  it("merges without duplicates, sorted by identity, and reads only well-formed entries", () => {
    const merged = mergeInventory(
      [
        { apiVersion: "apps/v1beta1", kind: "Deployment", namespace: "a", name: "w" },
        { apiVersion: "v1", kind: "ConfigMap", namespace: "a", name: "c" },
      ],
      [{ apiVersion: "apps/v1", kind: "Deployment", namespace: "a", name: "w" }],
    );
    expect(merged).toEqual([
      { apiVersion: "v1", kind: "ConfigMap", namespace: "a", name: "c" },
      { apiVersion: "apps/v1", kind: "Deployment", namespace: "a", name: "w" },
    ]);
    expect(
      readInventory([
        { apiVersion: "v1", kind: "Namespace", name: "n", namespace: "" },
        { kind: "broken" },
        "x",
      ]),
    ).toEqual([{ apiVersion: "v1", kind: "Namespace", name: "n" }]);
  });
});

describe("desired state store (what self-heal will read)", () => {
  it("finds the GitSync and desired state of an object by key, and forgets replaced ones", () => {
    const store = new DesiredStateStore();
    const [a, b] = buildDesired([item(cm("a")), item(cm("b"))], { owner, scopes });
    store.setDesired("team/apps", [a!, b!]);
    expect(store.ownerOf(a!.key)).toEqual({ gitSync: "team/apps", desired: a });
    store.setDesired("team/apps", [b!]);
    expect(store.ownerOf(a!.key)).toBeUndefined();
    expect(store.desiredOf("team/apps").size).toBe(1);
    store.forget("team/apps");
    expect(store.ownerOf(b!.key)).toBeUndefined();
  });
});
