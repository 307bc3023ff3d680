// The demo's alert receiver: a local HTTP server that accepts gitops-guard's signed webhook
// alerts only when the HMAC over "<timestamp>.<body>" checks out, as a real receiver must.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Alert } from "../../src/auditor/alerts/alert.js";
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifySignature,
} from "../../src/auditor/alerts/signature.js";

export interface AlertSink {
  readonly url: string;
  readonly hmacKey: string;
  /** Alerts whose signature verified, in arrival order. */
  readonly received: Alert[];
  /** Requests refused for a missing or wrong signature. */
  rejected: number;
  close(): Promise<void>;
}

export async function startAlertSink(): Promise<AlertSink> {
  const hmacKey = randomBytes(32).toString("hex");
  const received: Alert[] = [];
  const sink: { rejected: number } = { rejected: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const ok = verifySignature({
        body,
        key: hmacKey,
        signature: String(req.headers[SIGNATURE_HEADER] ?? ""),
        timestampSec: Number(req.headers[TIMESTAMP_HEADER] ?? 0),
        nowSec: Math.floor(Date.now() / 1000),
      });
      if (!ok) {
        sink.rejected += 1;
        res.writeHead(401).end();
        return;
      }
      received.push(...(JSON.parse(body) as { alerts: Alert[] }).alerts);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}/alerts`,
    hmacKey,
    received,
    get rejected() {
      return sink.rejected;
    },
    set rejected(n: number) {
      sink.rejected = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
