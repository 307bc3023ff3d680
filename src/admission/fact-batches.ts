/**
 * Attribution facts leave in as few API writes as a burst allows. The first fact in a namespace
 * goes out at once, as its own Event; the facts in that namespace in the window after it (a
 * script in a loop, a person editing one object after another, another controller fighting)
 * share one Event, written when the window ends, each naming its own object; a burst that goes
 * on keeps one Event per window. So an isolated edit is attributed without delay, and a flood
 * costs one write per namespace and window instead of one per request (measured: one Event per
 * fact added about 1 ms to each write on two cores). Facts never share an Event across
 * namespaces: whoever may read one namespace's Events sees only its own facts. A replica that
 * dies loses at most the facts of its open windows; memory is bounded by maxPending.
 */
import type { KubeObject } from "../kube/objects.js";
import { ADMISSION_EVENT_ANNOTATIONS } from "../kube/event-contract.js";
import type { Clock } from "../runtime/clock.js";
import {
  admissionEvent,
  annotations,
  microTime,
  regarding,
  type EventInput,
  type EventSink,
} from "./events.js";

export interface FactBatchesOptions {
  readonly sink: EventSink;
  readonly clock: Clock;
  /** How long facts in one namespace gather after the last Event there. Default 250 ms. */
  readonly windowMs?: number;
  /** Facts in one Event at most (annotations are bounded). Default 100. */
  readonly maxPerEvent?: number;
  /** Facts waiting in all windows at most; more are dropped and counted. Default 2,000. */
  readonly maxPending?: number;
  readonly onDropped?: () => void;
}

interface Window {
  readonly waiting: EventInput[];
  /** About how many bytes the waiting facts add to the Event's annotations. */
  bytes: number;
  readonly cancel: () => void;
}

/**
 * An Event's annotations may hold 256 KiB in all: a batch is sent once its facts come near
 * half of that, whatever their count (a fact's changed fields can be long).
 */
const MAX_BATCH_BYTES = 128 * 1024;

/** About what one fact adds to a batch: its field paths, names and the fixed keys. */
function sizeOf(input: EventInput): number {
  const { decision, request } = input;
  const groups = (request.userInfo.groups ?? []).join("").length;
  return 600 + decision.changedFields.join("").length * 1.2 + groups + decision.object.name.length;
}

/**
 * The Event of several facts in one namespace: the first's (its regarding is the first fact's
 * object), with the others annotated, each with the object it is about.
 */
export function batchedEvent(inputs: readonly EventInput[]): KubeObject {
  const [first, ...more] = inputs;
  if (first === undefined) throw new Error("a batch holds at least one fact");
  const event = admissionEvent(first);
  if (more.length === 0) return event;
  const rest = more.map((i) => ({
    annotations: annotations(i.decision, i.request),
    time: microTime(i.now),
    regarding: regarding(i.decision, i.request),
  }));
  const users = [...new Set(inputs.map((i) => i.request.userInfo.username))].join(", ");
  return {
    ...event,
    metadata: {
      ...event.metadata,
      annotations: {
        ...event.metadata.annotations,
        [ADMISSION_EVENT_ANNOTATIONS.moreFacts]: JSON.stringify(rest),
      },
    },
    note: `${String(inputs.length)} out-of-band changes in a burst by ${users}; the first: ${String(event["note"])}`.slice(
      0,
      1024,
    ),
  };
}

/** The namespace its Event goes to (admissionEvent's): facts batch per namespace. */
function keyOf(input: EventInput): string {
  return input.decision.object.namespace ?? "default";
}

export class FactBatches {
  private readonly windows = new Map<string, Window>();
  private pending = 0;
  private readonly options: FactBatchesOptions;

  constructor(options: FactBatchesOptions) {
    this.options = options;
  }

  add(input: EventInput): void {
    const key = keyOf(input);
    const open = this.windows.get(key);
    if (open === undefined) {
      this.options.sink.emit(admissionEvent(input));
      this.openWindow(key);
      return;
    }
    if (this.pending >= (this.options.maxPending ?? 2000)) {
      this.options.onDropped?.();
      return;
    }
    open.waiting.push(input);
    open.bytes += sizeOf(input);
    this.pending++;
    const full = open.waiting.length >= (this.options.maxPerEvent ?? 100);
    if (full || open.bytes >= MAX_BATCH_BYTES) this.send(key, true);
  }

  /** Sends every waiting fact now (the webhook stopping). */
  flush(): void {
    for (const key of [...this.windows.keys()]) this.send(key, false);
  }

  private openWindow(key: string): void {
    const cancel = this.options.clock.setTimer(() => {
      this.send(key, true);
    }, this.options.windowMs ?? 250);
    this.windows.set(key, { waiting: [], bytes: 0, cancel });
  }

  /** Writes the window's facts, if any; a window that had some opens again (the burst goes on). */
  private send(key: string, reopen: boolean): void {
    const open = this.windows.get(key);
    if (open === undefined) return;
    open.cancel();
    this.windows.delete(key);
    if (open.waiting.length === 0) return;
    this.pending -= open.waiting.length;
    this.options.sink.emit(batchedEvent(open.waiting));
    if (reopen) this.openWindow(key);
  }
}
