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

/** How often the sinks' Secrets are read again, so a rotated URL or HMAC key is picked up. */
export const SINK_REFRESH_MS = 60_000;

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
  let specsNow: readonly AlertSinkSpec[] = [];
  const resolve = (): void => {
    const mine = ++generation;
    resolveSinks({
      kube: ctx.kube,
      namespace: ctx.config.namespace,
      specs: specsNow,
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
  };
  const stopRefresh = new AbortController();
  const refresh = async (signal: AbortSignal): Promise<void> => {
    for (;;) {
      await ctx.clock.sleep(SINK_REFRESH_MS, signal);
      if (signal.aborted) return;
      if (specsNow.length > 0) resolve();
    }
  };
  const refreshing = refresh(stopRefresh.signal);
  return {
    onRecord: (record, origin) => {
      const alert = alertFromRecord(record, origin);
      if (alert !== undefined) dispatcher.notify(alert);
    },
    configure(specs) {
      // GitSync status writes refresh the scope often; re-read Secrets only for new settings
      // (and on the periodic refresh, for rotated ones).
      const wanted = JSON.stringify(specs);
      if (wanted === current) return;
      current = wanted;
      specsNow = specs;
      resolve();
    },
    async stop() {
      stopRefresh.abort();
      await refreshing;
      await dispatcher.stop();
    },
  };
}
