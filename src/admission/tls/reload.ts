/**
 * Certificate renewal without a restart: the source is re-read on its interval and, when the
 * material changed, new connections get it (Node's setSecureContext) and the CA bundle is
 * written again. A failed check keeps the current certificate and is retried next interval.
 */
import { errorMessage } from "../../errors.js";
import type { Clock } from "../../runtime/clock.js";
import type { Logger } from "../../telemetry/log.js";
import { materialChanged, type ServingMaterial, type TlsSource } from "./source.js";

export interface KeepFreshOptions {
  readonly source: TlsSource;
  readonly server: { setTls(tls: { cert: string; key: string }): void };
  readonly clock: Clock;
  readonly logger: Logger;
  readonly current: ServingMaterial;
  /** After the server switched: write the CA bundle, update the expiry metric. */
  readonly onChange?: (material: ServingMaterial) => Promise<void>;
}

export async function keepTlsFresh(options: KeepFreshOptions, signal: AbortSignal): Promise<void> {
  const { source, clock, logger } = options;
  let current = options.current;
  for (;;) {
    await clock.sleep(source.checkIntervalMs, signal);
    if (signal.aborted) return;
    try {
      const next = await source.load();
      if (!materialChanged(current, next)) continue;
      options.server.setTls(next);
      current = next;
      await options.onChange?.(next);
      logger.info({ mode: source.mode }, "webhook certificate reloaded");
    } catch (err: unknown) {
      logger.warn(
        { err: errorMessage(err), mode: source.mode },
        "webhook certificate check failed",
      );
    }
  }
}
