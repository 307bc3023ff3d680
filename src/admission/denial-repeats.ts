/**
 * Which decisions get an Event, and the one-Event-per-window rule for denials. A user who
 * retries a denied edit ten times has tried one thing: the first try gets an Event (the
 * auditor's admission-denied record), the repeats within the window none. The webhook's log and
 * admission_decisions_total still count every try.
 *
 * A repeat is the same user, operation, object, reason, policy and changed field paths. The
 * window is a fixed time bucket, and the Event's name is derived from the repeat and its
 * bucket: two replicas that each see one of the tries write the same name, and the API server
 * keeps one (the other create answers 409). So a burst of retries makes one Event, at most two
 * when it straddles a bucket boundary. client-go's EventCorrelator aggregates similar Events
 * over the same 10 minutes.
 */
import { createHash, randomBytes } from "node:crypto";
import type { FactBatches } from "./fact-batches.js";
import type { Clock } from "../runtime/clock.js";
import type { Decision } from "./decision.js";
import { admissionEvent, isPolicyDenial, wantsEvent, type EventSink } from "./events.js";
import type { AdmissionRequest } from "./review-types.js";

export const DENIAL_WINDOW_MS = 10 * 60_000;
// A bound on memory under a flood of distinct denials: one id and bucket number each.
const MAX_REMEMBERED = 10_000;

export class DenialRepeats {
  private readonly seen = new Map<string, number>();
  private readonly windowMs: number;

  constructor(windowMs = DENIAL_WINDOW_MS) {
    this.windowMs = windowMs;
  }

  /** The Event id of this denial, or undefined when its window has one already. */
  idFor(decision: Decision, request: AdmissionRequest, now: number): string | undefined {
    const bucket = Math.floor(now / this.windowMs);
    const o = decision.object;
    const repeat = JSON.stringify([
      request.userInfo.username,
      request.operation,
      o.apiVersion,
      o.kind,
      o.namespace ?? "",
      o.name,
      decision.reason,
      decision.policy ?? "",
      decision.changedFields,
      bucket,
    ]);
    const id = createHash("sha256").update(repeat).digest("hex").slice(0, 16);
    if (this.seen.has(id)) return undefined;
    this.forgetBefore(bucket);
    this.seen.set(id, bucket);
    return id;
  }

  /** Drops ids of past buckets, and the oldest beyond the bound (Maps keep insertion order). */
  private forgetBefore(bucket: number): void {
    for (const [id, b] of this.seen) {
      if (b >= bucket && this.seen.size < MAX_REMEMBERED) return;
      this.seen.delete(id);
    }
  }
}

export interface DecisionEventsDeps {
  readonly sink: EventSink;
  readonly clock: Clock;
  /** This replica (pod name): the Events' reportingInstance. */
  readonly instance: string;
  readonly repeats?: DenialRepeats;
  /** Attribution facts for allowed out-of-band writes (default true); denials are always told. */
  readonly facts?: boolean;
  /** Where facts go: bursts about one object share an Event. Default: each its own Event. */
  readonly batches?: FactBatches;
}

/**
 * The router's onDecision: runs after the answer is sent and only queues a background write,
 * so an Event never delays or changes an admission answer.
 */
export function decisionEvents(
  deps: DecisionEventsDeps,
): (decision: Decision, request: AdmissionRequest) => void {
  const repeats = deps.repeats ?? new DenialRepeats();
  return (decision, request) => {
    if (!wantsEvent(decision, request)) return;
    if (deps.facts === false && !isPolicyDenial(decision)) return;
    const now = deps.clock.now();
    const id = isPolicyDenial(decision)
      ? repeats.idFor(decision, request, now)
      : randomBytes(8).toString("hex");
    if (id === undefined) return;
    const input = { decision, request, now, instance: deps.instance, id };
    if (deps.batches !== undefined && !isPolicyDenial(decision)) deps.batches.add(input);
    else deps.sink.emit(admissionEvent(input));
  };
}
