import type { Clock } from "../../runtime/clock.js";
import type { Logger } from "../../telemetry/log.js";
import type { Alert } from "./alert.js";
import { SinkQueue, type AlertOutcome, type SinkQueueOptions } from "./sink-queue.js";
import type { AlertSink } from "./sinks.js";

export interface DispatcherOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onOutcome?: (sink: AlertSink, outcome: AlertOutcome) => void;
  readonly queue?: Omit<SinkQueueOptions, "sink" | "clock" | "onOutcome">;
}

interface Line {
  /** The newest settings for this id: a rotated Slack URL or HMAC key applies to what is queued. */
  current: AlertSink;
  readonly queue: SinkQueue;
  readonly abort: AbortController;
  readonly loop: Promise<void>;
}

/** Fans alerts out to every configured sink, each with its own queue, so one slow sink waits alone. */
export class AlertDispatcher {
  private readonly lines = new Map<string, Line>();
  private readonly opts: DispatcherOptions;

  constructor(opts: DispatcherOptions) {
    this.opts = opts;
  }

  /** Replaces the sink set; a sink kept by id keeps its queue and takes the new settings. */
  configure(sinks: readonly AlertSink[]): void {
    const wanted = new Set(sinks.map((s) => s.id));
    for (const [id, line] of this.lines) {
      if (!wanted.has(id)) {
        line.abort.abort();
        this.lines.delete(id);
      }
    }
    for (const sink of sinks) {
      const line = this.lines.get(sink.id);
      if (line === undefined) this.start(sink);
      else line.current = sink;
    }
  }

  notify(alert: Alert): void {
    for (const line of this.lines.values()) line.queue.push(alert);
  }

  async stop(): Promise<void> {
    const lines = [...this.lines.values()];
    this.lines.clear();
    for (const line of lines) line.abort.abort();
    await Promise.all(lines.map((l) => l.loop));
  }

  private start(sink: AlertSink): void {
    const abort = new AbortController();
    const line: { current: AlertSink } = { current: sink };
    const queue = new SinkQueue({
      ...this.opts.queue,
      sink: { type: sink.type, id: sink.id, deliver: (alert) => line.current.deliver(alert) },
      clock: this.opts.clock,
      onOutcome: (outcome, error) => {
        this.opts.onOutcome?.(sink, outcome);
        if (outcome === "failed" || outcome === "dropped") {
          this.opts.logger.warn({ sink: sink.id, outcome, err: error }, "alert not delivered");
        }
      },
    });
    const loop = queue.run(abort.signal);
    this.lines.set(sink.id, Object.assign(line, { queue, abort, loop }));
  }
}
