import { describe, expect, it } from "vitest";
import { MIN_NODE_MAJOR, nodeTooOld } from "../../src/cli/node-version.js";

describe("nodeTooOld", () => {
  it("passes Node 24 and later", () => {
    expect(MIN_NODE_MAJOR).toBe(24);
    for (const v of ["v24.0.0", "v24.21.0", "v25.1.0", "v100.0.0"])
      expect(nodeTooOld(v)).toBeUndefined();
  });

  it("names the version it needs and the one it got", () => {
    expect(nodeTooOld("v20.20.2")).toBe(
      "error GG_NODE_TOO_OLD: gitops-guard needs Node.js 24 or later; this is v20.20.2\n",
    );
    expect(nodeTooOld("v23.11.1")).toContain("this is v23.11.1");
    expect(nodeTooOld("not a version")).toContain("needs Node.js 24 or later");
  });
});
