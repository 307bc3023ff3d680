import { ErrorCodes, GuardError } from "../../errors.js";
import type { Clock } from "../../runtime/clock.js";
import type { Alert } from "./alert.js";
import { alertmanagerPayload, slackPayload, webhookPayload } from "./payloads.js";
import { signPayload, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "./signature.js";

export type SinkType = "slack" | "alertmanager" | "webhook";

/** Where alerts go. The URL may itself be a credential (Slack), so it never reaches a log. */
export interface AlertSink {
  readonly type: SinkType;
  /** A stable, loggable name: type and where its settings come from, never the URL. */
  readonly id: string;
  deliver(alert: Alert): Promise<void>;
}

export interface SinkSettings {
  readonly type: SinkType;
  readonly id: string;
  readonly url: string;
  /** The HMAC-SHA256 key of a generic webhook. */
  readonly hmacKey?: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

function bodyFor(type: SinkType, alert: Alert): string {
  if (type === "slack") return JSON.stringify(slackPayload([alert]));
  if (type === "alertmanager") return JSON.stringify(alertmanagerPayload([alert]));
  return JSON.stringify(webhookPayload([alert]));
}

/** Alertmanager's v2 API lives at /api/v2/alerts under its base URL. */
function targetUrl(settings: SinkSettings): string {
  if (settings.type !== "alertmanager" || settings.url.endsWith("/api/v2/alerts"))
    return settings.url;
  return `${settings.url.replace(/\/+$/, "")}/api/v2/alerts`;
}

function headersFor(settings: SinkSettings, body: string): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (settings.type === "webhook" && settings.hmacKey !== undefined) {
    const ts = Math.floor(settings.clock.now() / 1000);
    headers[TIMESTAMP_HEADER] = String(ts);
    headers[SIGNATURE_HEADER] = signPayload(body, settings.hmacKey, ts);
  }
  return headers;
}

export function createSink(settings: SinkSettings): AlertSink {
  const url = targetUrl(settings);
  return {
    type: settings.type,
    id: settings.id,
    async deliver(alert) {
      const body = bodyFor(settings.type, alert);
      const res = await fetch(url, {
        method: "POST",
        headers: headersFor(settings, body),
        body,
        signal: AbortSignal.timeout(settings.timeoutMs ?? 10_000),
      });
      // Drain the body so the connection is reused; its text may echo input, so it is not kept.
      await res.arrayBuffer();
      if (!res.ok) {
        throw new GuardError(
          ErrorCodes.ALERT_SINK_FAILED,
          `alert sink ${settings.id} answered HTTP ${String(res.status)}`,
          { details: { sink: settings.id, status: res.status } },
        );
      }
    },
  };
}
