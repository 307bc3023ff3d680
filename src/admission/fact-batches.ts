/**
 * Attribution facts leave in as few API writes as a burst allows. The first fact about an object
 * goes out at once, as its own Event; the facts about that object in the window after it (a
 * script in a loop, another controller fighting) share one Event, written when the window ends,
 * and a burst that goes on keeps one Event per window. So an isolated edit is attributed without
 * delay, and a flood costs one write per object and window instead of one per request. A replica
 * that dies loses at most the facts of its open windows; memory is bounded by maxPending.
 */
import type { KubeObject } from "../kube/objects.js";
import { ADMISSION_EVENT_ANNOTATIONS } from "../kube/event-contract.js";
import type { Clock } from "../runtime/clock.js";
import {
  admissionEvent,
  annotations,
  microTime,
  type EventInput,
  type EventSink,
} from "./events.js";

export interface FactBatchesOptions {
  readonly sink: EventSink;
  readonly clock: Clock;
  /** How long facts about one object gather after the last Event about it. Default 250 ms. */
  readonly windowMs?: number;
  /** Facts in one Event at most (annotations are bounded). Default 100. */
  readonly maxPerEvent?: number;
  /** Facts waiting in all windows at most; more are dropped and counted. Default 2,000. */
  readonly maxPending?: number;
  readonly onDropped?: () => void;
}

interface Window {
  readonly waiting: EventInput[];
  readonly cancel: () => void;
}

/** The Event of several facts about one object: the first's, with the others annotated. */
export function batchedEvent(inputs: readonly EventInput[]): KubeObject {
  const [first, ...more] = inputs;
  if (first === undefined) throw new Error("a batch holds at least one fact");
  const event = admissionEvent(first);
  if (more.length === 0) return event;
  const rest = more.map((i) => ({
    annotations: annotations(i.decision, i.request),
    time: microTime(i.now),
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

function keyOf(input: EventInput): string {
  const o = input.decision.object;
  return `${o.apiVersion}/${o.kind}/${o.namespace ?? ""}/${o.name}`;
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
    this.pending++;
    if (open.waiting.length >= (this.options.maxPerEvent ?? 100)) this.send(key, true);
  }

  /** Sends every waiting fact now (the webhook stopping). */
  flush(): void {
    for (const key of [...this.windows.keys()]) this.send(key, false);
  }

  private openWindow(key: string): void {
    const cancel = this.options.clock.setTimer(() => {
      this.send(key, true);
    }, this.options.windowMs ?? 250);
    this.windows.set(key, { waiting: [], cancel });
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
