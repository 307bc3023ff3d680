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
  /** Facts for machines (kube/event-contract.ts): names, paths, fingerprints; never a value. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** A second object the Event is about: the Secret a SealedSecret was unsealed into. */
  readonly related?: EventObjectRef;
}

export interface EventObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
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
  /** On every Event: GUARD_EVENT_LABELS lets the auditor's informer see them. */
  readonly labels?: Readonly<Record<string, string>>;
}

// The events API note limit (1 KiB); the scheduler truncates the same way.
const MESSAGE_LIMIT = 1024;

function eventBody(input: {
  readonly obj: KubeObject;
  readonly note: EventNote;
  readonly deps: EventRecorderDeps;
  readonly now: string;
}): KubeObject {
  const { obj, note, deps, now } = input;
  const namespace = obj.metadata.namespace ?? "";
  const name = obj.metadata.name ?? "";
  const { message } = note;
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: {
      name: `${name}.${randomBytes(8).toString("hex")}`,
      namespace,
      ...(deps.labels === undefined ? {} : { labels: { ...deps.labels } }),
      ...(note.annotations === undefined ? {} : { annotations: { ...note.annotations } }),
    },
    involvedObject: {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      namespace,
      name,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
    },
    ...(note.related === undefined ? {} : { related: note.related }),
    type: note.type,
    reason: note.reason,
    message: message.length <= MESSAGE_LIMIT ? message : `${message.slice(0, 1020)} ...`,
    source: { component: deps.source.component },
    reportingComponent: deps.source.reportingComponent,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

export class EventRecorder {
  private readonly last = new Map<string, string>();
  private readonly deps: EventRecorderDeps;

  constructor(deps: EventRecorderDeps) {
    this.deps = deps;
  }

  /**
   * Records note unless it repeats the last one for this object. The annotations and related
   * object count: two writes of one Secret (two resourceVersions) are two Events.
   */
  async record(obj: KubeObject, note: EventNote): Promise<void> {
    const namespace = obj.metadata.namespace ?? "";
    const name = obj.metadata.name ?? "";
    const id = keyOf({ namespace, name });
    const facts = JSON.stringify([note.annotations ?? {}, note.related ?? {}]);
    const fingerprint = `${note.type}\n${note.reason}\n${note.message}\n${facts}`;
    if (this.last.get(id) === fingerprint) return;
    this.last.set(id, fingerprint);
    try {
      await this.deps.kube.create(
        eventBody({ obj, note, deps: this.deps, now: rfc3339(this.deps.clock.now()) }),
      );
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
