import { randomBytes } from "node:crypto";
import { errorMessage } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import type { Clock } from "../runtime/clock.js";
import { rfc3339 } from "../runtime/conditions.js";
import type { Logger } from "../telemetry/log.js";
import type { GitSyncObject } from "./gitsync.js";
import type { EventNote } from "./outcome.js";

const COMPONENT = "gitops-guard-reconciler";

/**
 * Records core/v1 Events on GitSyncs (what `kubectl describe gitsync` and `kubectl get events`
 * show). The same reason and message twice in a row for one GitSync is recorded once, so a
 * GitSync failing the same way every minute does not flood the namespace. Messages are built from
 * object names and error texts that never include Secret data.
 */
export class EventRecorder {
  private readonly last = new Map<string, string>();
  private readonly kube: KubeClient;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(deps: { kube: KubeClient; clock: Clock; logger: Logger }) {
    this.kube = deps.kube;
    this.clock = deps.clock;
    this.logger = deps.logger;
  }

  async record(gitSync: GitSyncObject, note: EventNote): Promise<void> {
    const namespace = gitSync.metadata.namespace ?? "";
    const name = gitSync.metadata.name ?? "";
    const id = `${namespace}/${name}`;
    const fingerprint = `${note.reason}\n${note.message}`;
    if (this.last.get(id) === fingerprint) return;
    this.last.set(id, fingerprint);
    const now = rfc3339(this.clock.now());
    try {
      await this.kube.create({
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: `${name}.${randomBytes(8).toString("hex")}`, namespace },
        involvedObject: {
          apiVersion: gitSync.apiVersion,
          kind: gitSync.kind,
          namespace,
          name,
          uid: gitSync.metadata.uid,
          resourceVersion: gitSync.metadata.resourceVersion,
        },
        type: note.type,
        reason: note.reason,
        // The events API note limit (1 KiB); the scheduler truncates the same way.
        message: note.message.length <= 1024 ? note.message : `${note.message.slice(0, 1020)} ...`,
        source: { component: COMPONENT },
        reportingComponent: `gitops-guard.io/reconciler`,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (err: unknown) {
      // An Event is a courtesy: failing to write one must not fail the sync.
      this.logger.warn(
        { gitSync: id, reason: note.reason, err: errorMessage(err) },
        "event not recorded",
      );
    }
  }

  forget(gitSync: string): void {
    this.last.delete(gitSync);
  }
}
