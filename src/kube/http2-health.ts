import type { ClientHttp2Session } from "node:http2";

/** How often a busy connection is pinged, and how long an answer may take. */
export interface HealthCheck {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

// client-go's HTTP/2 health check uses 30 s and 15 s (ReadIdleTimeout, PingTimeout).
export const DEFAULT_HEALTH_CHECK: HealthCheck = { intervalMs: 30_000, timeoutMs: 15_000 };

/**
 * Pings the session while streams are open on it, and destroys it when a ping goes
 * unanswered: a connection that died without a reset (a node lost, a NAT entry dropped) would
 * otherwise hold its watches open for ever, with no event and no error. Their streams then
 * fail, and the informers relist over a new connection.
 */
export function checkHealth(
  session: ClientHttp2Session,
  busy: () => boolean,
  check: HealthCheck,
): void {
  let waiting: NodeJS.Timeout | undefined;
  const timer = setInterval(() => {
    if (waiting !== undefined || !busy() || session.destroyed) return;
    waiting = setTimeout(() => {
      session.destroy(new Error(`no answer to an HTTP/2 ping in ${String(check.timeoutMs)} ms`));
    }, check.timeoutMs);
    waiting.unref();
    const sent = session.ping(() => {
      clearTimeout(waiting);
      waiting = undefined;
    });
    if (!sent) {
      clearTimeout(waiting);
      waiting = undefined;
    }
  }, check.intervalMs);
  timer.unref();
  session.once("close", () => {
    clearInterval(timer);
    clearTimeout(waiting);
  });
}
