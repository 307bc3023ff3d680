// The control plane runs the Kubernetes version ENVTEST_KUBERNETES asks for (CI runs the
// admission, backstop, chart and reconciler suites on 1.30 too, the oldest the chart supports).
import { describe, expect, it } from "vitest";
import { kubernetesVersion } from "./binaries.js";
import { clientAs } from "./context.js";

describe("the control plane's version", () => {
  it("is the one asked for", async () => {
    const version = await clientAs("admin").rest.json<{ gitVersion: string }>({
      method: "GET",
      path: "/version",
    });
    expect(version.gitVersion).toMatch(
      new RegExp(`^v${kubernetesVersion().replace(".", "\\.")}\\.`),
    );
  });
});
