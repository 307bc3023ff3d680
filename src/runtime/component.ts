import type { Router } from "express";

/**
 * What the composition root runs. A component owns its informers, queues and servers; main.ts
 * only starts it, reports its readiness and stops it.
 */
export interface Component {
  readonly name: string;
  /** Leader-only components run while this replica holds the controller lease. */
  readonly leaderOnly: boolean;
  /** Runs until signal aborts, then cleans up and resolves. Rejects only on a fatal error. */
  run(signal: AbortSignal): Promise<void>;
  /** Named readiness checks, such as "informer:secrets": true once that cache has synced. */
  readiness(): Readonly<Record<string, boolean>>;
  /** Read-only endpoints mounted on the ops server (the auditor's journal API). */
  readonly routes?: () => Router;
}
