// Load for peers-kyverno.bench.ts: HTTPS POSTs of one AdmissionReview over keep-alive
// connections to a webhook at any path (Kyverno answers on /validate/fail, gitops-guard on
// /validate), open loop at a fixed rate or closed loop at saturation, bounded in count and time.
import { Agent, request } from "node:https";
import { setTimeout as delay } from "node:timers/promises";

export interface Endpoint {
  readonly name: string;
  readonly port: number;
  readonly path: string;
  readonly ca: string;
  readonly body: string;
}

/** One POST; resolves its latency in ms and the response body. */
export function post(
  endpoint: Endpoint,
  agent: Agent,
): Promise<{ readonly ms: number; readonly body: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: endpoint.port,
        path: endpoint.path,
        method: "POST",
        agent,
        ca: endpoint.ca,
        timeout: 10_000,
        headers: {
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(endpoint.body),
        },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          if (res.statusCode === 200) resolve({ ms: performance.now() - started, body });
          else reject(new Error(`${endpoint.name}: status ${String(res.statusCode)}: ${body}`));
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${endpoint.name}: timeout`)));
    req.on("error", reject);
    req.end(endpoint.body);
  });
}

/** The `allowed` field of one answer, to check both webhooks decide the same way. */
export async function decision(endpoint: Endpoint): Promise<boolean | undefined> {
  const agent = new Agent({ keepAlive: false });
  try {
    const { body } = await post(endpoint, agent);
    const parsed = JSON.parse(body) as { response?: { allowed?: unknown } };
    const allowed = parsed.response?.allowed;
    return typeof allowed === "boolean" ? allowed : undefined;
  } finally {
    agent.destroy();
  }
}

const ignore = (): void => undefined;

export interface RateRun {
  readonly sent: number;
  readonly failed: number;
  readonly latenciesMs: number[];
  readonly achievedRps: number;
}

/** rate requests/s for durationMs (open loop); answers later than graceMs after the end fail. */
export async function atRate(
  endpoint: Endpoint,
  rate: number,
  durationMs: number,
  graceMs = 10_000,
): Promise<RateRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const total = Math.round((rate * durationMs) / 1000);
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (sent < total && performance.now() - start < durationMs + graceMs) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      // Errors and answers later than the grace period count as failed (sent - answered).
      pending.push(post(endpoint, agent).then((r) => void latencies.push(r.ms), ignore));
    }
    await delay(1);
  }
  await Promise.race([Promise.all(pending), delay(graceMs)]);
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return {
    sent,
    failed: sent - latencies.length,
    latenciesMs: latencies,
    achievedRps: latencies.length / seconds,
  };
}

/** clients send back to back for durationMs: requests per second at saturation. */
export async function saturate(
  endpoint: Endpoint,
  clients: number,
  durationMs: number,
): Promise<{ readonly rps: number; readonly requests: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const deadline = performance.now() + durationMs;
  let done = 0;
  const client = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await post(endpoint, agent);
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const rps = done / ((performance.now() - start) / 1000);
  agent.destroy();
  return { rps, requests: done };
}
