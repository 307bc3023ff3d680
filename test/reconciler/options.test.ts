/**
 * The reconciler's settings as createReconcilerComponent derives them: Config's reconciler
 * settings (seconds) become its defaults (milliseconds), and explicit options still win.
 */
import { describe, expect, it } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { RECONCILER_DEFAULTS, reconcilerOptions } from "../../src/reconciler/component.js";

function reconcilerConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ flags: {}, env, hostname: "node-1" });
}

describe("reconcilerOptions", () => {
  it("equals RECONCILER_DEFAULTS for the default Config", () => {
    expect(reconcilerOptions(reconcilerConfig().reconciler)).toEqual(RECONCILER_DEFAULTS);
  });

  it("takes workers, apply concurrency, heal workers, the git timeout and the heal-loop backoff from Config, in milliseconds", () => {
    const config = reconcilerConfig({
      GITOPS_GUARD_RECONCILER_WORKERS: "2",
      GITOPS_GUARD_RECONCILER_APPLY_CONCURRENCY: "3",
      GITOPS_GUARD_RECONCILER_HEAL_WORKERS: "6",
      GITOPS_GUARD_RECONCILER_GIT_TIMEOUT_SECONDS: "30",
      GITOPS_GUARD_RECONCILER_HEAL_LOOP_THRESHOLD: "5",
      GITOPS_GUARD_RECONCILER_HEAL_LOOP_WINDOW_SECONDS: "120",
      GITOPS_GUARD_RECONCILER_HEAL_BACKOFF_SECONDS: "10",
      GITOPS_GUARD_RECONCILER_HEAL_BACKOFF_CAP_SECONDS: "600",
    });
    expect(reconcilerOptions(config.reconciler)).toEqual({
      ...RECONCILER_DEFAULTS,
      workers: 2,
      concurrency: 3,
      healWorkers: 6,
      gitTimeoutMs: 30_000,
      healLoopThreshold: 5,
      healLoopWindowMs: 120_000,
      healBackoffMs: 10_000,
      healBackoffCapMs: 600_000,
    });
  });

  it("lets explicit options win over Config", () => {
    const config = reconcilerConfig({ GITOPS_GUARD_RECONCILER_HEAL_LOOP_THRESHOLD: "5" });
    const options = reconcilerOptions(config.reconciler, { healLoopThreshold: 2, workers: 1 });
    expect(options).toMatchObject({ healLoopThreshold: 2, workers: 1, healBackoffMs: 2_000 });
  });
});
