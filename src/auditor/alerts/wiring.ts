import type { ComponentContext } from "../../component-context.js";
import { errorMessage } from "../../errors.js";
import type { Logger } from "../../telemetry/log.js";
import type { AuditorMetrics } from "../metrics.js";
import type { RecordListener } from "../recorder.js";
import type { AlertSinkSpec } from "../scope.js";
import { alertFromRecord } from "./alert.js";
import { AlertDispatcher } from "./dispatcher.js";
import { resolveSinks } from "./sink-config.js";

export interface Alerting {
  readonly onRecord: RecordListener;
  /** Re-reads the sinks (and their Secrets) after the policies changed. */
  configure(specs: readonly AlertSinkSpec[]): void;
  stop(): Promise<void>;
}

/** Journal records to alerts, through the sinks the GuardPolicies name. */
export function startAlerting(
  ctx: ComponentContext,
  metrics: AuditorMetrics,
  logger: Logger,
): Alerting {
  const dispatcher = new AlertDispatcher({
    clock: ctx.clock,
    logger,
    onOutcome: (sink, outcome) => {
      if (outcome === "dropped") metrics.alertsDropped.inc({ sink: sink.type });
      else metrics.alerts.inc({ sink: sink.type, outcome });
    },
  });
  let generation = 0;
  let current: string | undefined;
  return {
    onRecord: (record, origin) => {
      const alert = alertFromRecord(record, origin);
      if (alert !== undefined) dispatcher.notify(alert);
    },
    configure(specs) {
      // GitSync status writes refresh the scope often; re-read Secrets only for new settings.
      const wanted = JSON.stringify(specs);
      if (wanted === current) return;
      current = wanted;
      const mine = ++generation;
      resolveSinks({
        kube: ctx.kube,
        namespace: ctx.config.namespace,
        specs,
        clock: ctx.clock,
        onSkipped: (id, why) => {
          logger.warn({ sink: id, why }, "alert sink skipped");
        },
      })
        .then((sinks) => {
          // A later policy change may have finished first; the newest set wins.
          if (mine === generation) dispatcher.configure(sinks);
        })
        .catch((err: unknown) => {
          logger.warn({ err: errorMessage(err) }, "cannot configure the alert sinks");
        });
    },
    stop: () => dispatcher.stop(),
  };
}
