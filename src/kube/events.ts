/**
 * core/v1 Events on the objects a controller owns (what `kubectl describe` shows). The same
 * note twice in a row for one object is recorded once, so an object failing the same way every
 * minute does not flood its namespace. Callers build messages from names and error texts that
 * never include Secret data. Writing an Event is a courtesy: it never throws.
 */
import { randomBytes } from "node:crypto";
import { errorMessage } from "../errors.js";
import type { Clock } from "../runtime/clock.js";
import { rfc3339 } from "../runtime/conditions.js";
import type { Logger } from "../telemetry/log.js";
import type { KubeClient } from "./client.js";
import { keyOf, type KubeObject } from "./objects.js";

export interface EventNote {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

/** Who records: the Event's source and reportingComponent, and the log field naming the object. */
export interface EventSource {
  readonly component: string;
  readonly reportingComponent: string;
  readonly logField: string;
}

export interface EventRecorderDeps {
  readonly kube: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly source: EventSource;
}

// The events API note limit (1 KiB); the scheduler truncates the same way.
const MESSAGE_LIMIT = 1024;

export class EventRecorder {
  private readonly last = new Map<string, string>();
  private readonly deps: EventRecorderDeps;

  constructor(deps: EventRecorderDeps) {
    this.deps = deps;
  }

  /** Records note unless it repeats the last one for this object. */
  async record(obj: KubeObject, note: EventNote): Promise<void> {
    const namespace = obj.metadata.namespace ?? "";
    const name = obj.metadata.name ?? "";
    const id = keyOf({ namespace, name });
    const fingerprint = `${note.type}\n${note.reason}\n${note.message}`;
    if (this.last.get(id) === fingerprint) return;
    this.last.set(id, fingerprint);
    const now = rfc3339(this.deps.clock.now());
    const { message } = note;
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
        message: message.length <= MESSAGE_LIMIT ? message : `${message.slice(0, 1020)} ...`,
        source: { component: this.deps.source.component },
        reportingComponent: this.deps.source.reportingComponent,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (err: unknown) {
      this.deps.logger.warn(
        { [this.deps.source.logField]: id, reason: note.reason, err: errorMessage(err) },
        "event not recorded",
      );
    }
  }

  /** Forgets the last note of a deleted object ("namespace/name"). */
  forget(key: string): void {
    this.last.delete(key);
  }
}
