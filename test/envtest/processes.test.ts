import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map(Number);
  } catch {
    return [];
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (check()) return true;
    // A poll period: the watchdog and its binary are not our children, so no exit event reaches us.
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe("envtest processes", () => {
  it("leave no orphan when the test runner is killed outright", async () => {
    const script = fileURLToPath(new URL("./fixtures/orphan-parent.ts", import.meta.url));
    const parent = spawn(process.execPath, ["--import", "tsx", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const watchdog = await new Promise<number>((resolve) => {
      parent.stdout.once("data", (d: Buffer) => {
        resolve(Number(d.toString().trim()));
      });
    });
    expect(await until(() => childrenOf(watchdog).length > 0, 5000)).toBe(true);
    const [binary] = childrenOf(watchdog);
    expect(binary).toBeGreaterThan(0);
    parent.kill("SIGKILL");
    expect(await until(() => !alive(watchdog) && !alive(binary ?? 0), 10_000)).toBe(true);
  });
});
