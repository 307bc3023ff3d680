import { describe, expect, it } from "vitest";
import { clientAs } from "../envtest/context.js";

describe("discovery", () => {
  it("maps a resource's plural back to its kind, and says undefined for one not served", async () => {
    const kube = clientAs("admin");
    expect(await kube.kindOf("v1", "configmaps")).toBe("ConfigMap");
    expect(await kube.kindOf("apps/v1", "deployments")).toBe("Deployment");
    expect(await kube.kindOf("gitops-guard.io/v1alpha1", "guardpolicies")).toBe("GuardPolicy");
    expect(await kube.kindOf("apps/v1", "deployments/status")).toBeUndefined();
    expect(await kube.kindOf("v1", "no-such-things")).toBeUndefined();
    expect(await kube.kindOf("nothing.example/v1", "widgets")).toBeUndefined();
  });
});
