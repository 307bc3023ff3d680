import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

// Tests that need a network of their own (test/envtest/netns.ts): offered only inside it, where
// test/secrets/service-proxy.int.test.ts runs them with a control plane of their own.
const netns: TestProjectInlineConfiguration[] =
  process.env.GITOPS_GUARD_TEST_NETNS === "1"
    ? [
        {
          test: {
            name: "netns",
            include: ["test/**/*.netns.test.ts"],
            globalSetup: ["test/tools/global-setup.ts", "test/envtest/global-setup.ts"],
            testTimeout: 120_000,
            hookTimeout: 180_000,
            fileParallelism: false,
          },
        },
      ]
    : [];

// Two projects: unit tests (pure cores, no servers but loopback ones they start themselves)
// and integration tests against the real control plane started once by test/envtest.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/tools/global-setup.ts"],
          // Unit files first, then the integration files: the timing claims of the integration
          // tests (leader handover, heal latency) should not share two cores with fuzzers.
          sequence: { groupOrder: 0 },
          exclude: [
            "test/**/*.int.test.ts",
            "test/**/*.netns.test.ts",
            "test/e2e/**",
            "node_modules/**",
          ],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.int.test.ts"],
          globalSetup: ["test/tools/global-setup.ts", "test/envtest/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      ...netns,
    ],
  },
});
