/** What `gitops-guard break-glass` sends: the target, the resolved kind, the one patch. */
import { describe, expect, it } from "vitest";
import {
  endMarkPatch,
  matchResource,
  parseTarget,
  setMarkPatch,
  type DiscoveredResource,
} from "../../src/admission/break-glass-request.js";
import { ErrorCodes } from "../../src/errors.js";

const RESOURCES: DiscoveredResource[] = [
  {
    groupVersion: "v1",
    name: "configmaps",
    singularName: "configmap",
    kind: "ConfigMap",
    namespaced: true,
    shortNames: ["cm"],
  },
  {
    groupVersion: "v1",
    name: "namespaces",
    singularName: "namespace",
    kind: "Namespace",
    namespaced: false,
    shortNames: ["ns"],
  },
  {
    groupVersion: "apps/v1",
    name: "deployments",
    singularName: "deployment",
    kind: "Deployment",
    namespaced: true,
    shortNames: ["deploy"],
  },
  { groupVersion: "apps/v1", name: "deployments/scale", kind: "Scale", namespaced: true },
  {
    groupVersion: "example.io/v1",
    name: "deployments",
    singularName: "deployment",
    kind: "Deployment",
    namespaced: true,
  },
];

describe("break-glass requests", () => {
  it("read KIND/NAME as kubectl does", () => {
    expect(parseTarget("deployment/web")).toEqual({ resource: "deployment", name: "web" });
    expect(parseTarget("deployments.example.io/web")).toEqual({
      resource: "deployments",
      group: "example.io",
      name: "web",
    });
    for (const bad of ["web", "/web", "deployment/", "a/b/c"]) {
      expect(() => parseTarget(bad)).toThrow(
        expect.objectContaining({ code: ErrorCodes.BREAK_GLASS_INVALID }) as Error,
      );
    }
  });

  it("resolve plural, singular, kind and short names, any case, never a subresource", () => {
    for (const name of ["deploy", "Deployment", "deployments", "DEPLOYMENT"]) {
      expect(matchResource({ resource: name, name: "web" }, RESOURCES).groupVersion).toBe(
        "apps/v1",
      );
    }
    expect(
      matchResource({ resource: "deployments", group: "example.io", name: "web" }, RESOURCES)
        .groupVersion,
    ).toBe("example.io/v1");
    expect(matchResource({ resource: "cm", name: "x" }, RESOURCES).kind).toBe("ConfigMap");
    expect(matchResource({ resource: "ns", name: "x" }, RESOURCES).namespaced).toBe(false);
    expect(() => matchResource({ resource: "scale", name: "x" }, RESOURCES)).toThrow(
      /no resource type "scale"/,
    );
  });

  it("set and end the three annotations in one merge patch", () => {
    expect(setMarkPatch({ reason: "INC-1", expires: "2026-01-01T01:00:00Z", by: "bob" })).toEqual({
      metadata: {
        annotations: {
          "gitops-guard.io/break-glass": "INC-1",
          "gitops-guard.io/break-glass-expires": "2026-01-01T01:00:00Z",
          "gitops-guard.io/break-glass-by": "bob",
        },
      },
    });
    expect(endMarkPatch()).toEqual({
      metadata: {
        annotations: {
          "gitops-guard.io/break-glass": null,
          "gitops-guard.io/break-glass-expires": null,
          "gitops-guard.io/break-glass-by": null,
        },
      },
    });
  });
});
