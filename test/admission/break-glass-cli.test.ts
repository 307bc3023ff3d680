/** `gitops-guard break-glass` refuses bad input before it talks to any cluster. */
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run-cli.js";

async function cli(args: readonly string[]): Promise<{ code: number; err: string }> {
  let err = "";
  const code = await runCli(
    ["node", "gitops-guard", "break-glass", ...args, "--kubeconfig", "/nonexistent"],
    {
      run: () => Promise.resolve(),
      env: {},
      hostname: "test",
      output: { writeOut: () => undefined, writeErr: (t) => (err += t) },
    },
  );
  return { code, err };
}

describe("gitops-guard break-glass", () => {
  it.each([
    [["deployment/web", "--for", "1h"], "--reason is required"],
    [["deployment/web", "--reason", "INC-1"], "--for must be a duration"],
    [
      ["deployment/web", "--reason", "INC-1", "--for", "soon"],
      '--for must be a duration like 30m or 2h, not "soon"',
    ],
    [["web", "--reason", "INC-1", "--for", "1h"], "the target must be KIND/NAME"],
  ])("%j fails with GG_BREAK_GLASS_INVALID", async (args, message) => {
    const { code, err } = await cli(args);
    expect(code).toBe(1);
    expect(err).toContain("error GG_BREAK_GLASS_INVALID:");
    expect(err).toContain(message);
  });

  it("needs a kubeconfig once the input is valid", async () => {
    const { code, err } = await cli(["deployment/web", "--end"]);
    expect(code).toBe(1);
    expect(err).toContain("GG_KUBECONFIG_INVALID");
  });
});
