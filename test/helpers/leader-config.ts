// The Config of an in-process `gitops-guard run` against envtest with short lease timings, for
// the tests of leadership and of components run under it (main.int, component-failure.int).
import { loadConfig, type Config } from "../../src/config.js";
import { envtest } from "../envtest/context.js";

/** Lease, renew deadline and retry period, in seconds. */
export const IN_PROCESS_TIMING = { lease: 4, renew: 3, retry: 1 } as const;

export function leaderConfig(namespace: string): Config {
  return loadConfig({
    flags: {
      kubeconfig: envtest().kubeconfigs.admin,
      opsListen: "127.0.0.1:0",
      namespace,
      identity: "replica-1",
    },
    env: {
      GITOPS_GUARD_LEADER_ELECTION_LEASE_DURATION_SECONDS: String(IN_PROCESS_TIMING.lease),
      GITOPS_GUARD_LEADER_ELECTION_RENEW_DEADLINE_SECONDS: String(IN_PROCESS_TIMING.renew),
      GITOPS_GUARD_LEADER_ELECTION_RETRY_PERIOD_SECONDS: String(IN_PROCESS_TIMING.retry),
    },
    hostname: "test-host",
  });
}
