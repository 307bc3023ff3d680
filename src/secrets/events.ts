/**
 * core/v1 Events on SealedSecrets (what `kubectl describe sealedsecret` shows). The same
 * reason and message twice in a row for one SealedSecret is recorded once. Messages hold
 * names and the sealing library's explanations, never a value.
 */
import { randomBytes } from "node:crypto";
import { errorMessage } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import { keyOf, type KubeObject } from "../kube/objects.js";
import type { Clock } from "../runtime/clock.js";
import { rfc3339 } from "../runtime/conditions.js";
import type { Logger } from "../telemetry/log.js";
import { EVENT_SOURCE } from "./names.js";

export interface EventNote {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

export class EventRecorder {
  private readonly last = new Map<string, string>();
  private readonly deps: { kube: KubeClient; clock: Clock; logger: Logger };

  constructor(deps: { kube: KubeClient; clock: Clock; logger: Logger }) {
    this.deps = deps;
  }

  /** Records note unless it repeats the last one for this object; never throws. */
  async record(obj: KubeObject, note: EventNote): Promise<void> {
    const namespace = obj.metadata.namespace ?? "";
    const name = obj.metadata.name ?? "";
    const id = keyOf({ namespace, name });
    const fingerprint = `${note.type}\n${note.reason}\n${note.message}`;
    if (this.last.get(id) === fingerprint) return;
    this.last.set(id, fingerprint);
    const now = rfc3339(this.deps.clock.now());
    try {
      await this.deps.kube.create({
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: `${name}.${randomBytes(8).toString("hex")}`, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          namespace,
          name,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        type: note.type,
        reason: note.reason,
        message: note.message.length <= 1024 ? note.message : `${note.message.slice(0, 1020)} ...`,
        source: { component: EVENT_SOURCE },
        reportingComponent: "gitops-guard.io/secrets",
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (err: unknown) {
      // An Event is a courtesy: failing to write one must not fail the reconcile.
      this.deps.logger.warn(
        { sealedSecret: id, reason: note.reason, err: errorMessage(err) },
        "event not recorded",
      );
    }
  }

  /** Forgets the last note of a deleted object. */
  forget(key: string): void {
    this.last.delete(key);
  }
}
