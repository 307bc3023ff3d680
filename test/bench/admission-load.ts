// Load generation for admission.bench.ts: HTTPS POSTs of one AdmissionReview over keep-alive
// connections, either open-loop at a fixed rate (latency at that rate) or closed-loop with a
// fixed number of clients (the most requests per second). Loopback only, bounded in time.
import { Agent, request } from "node:https";

export interface Target {
  readonly port: number;
  readonly ca: string;
  readonly body: string;
}

export interface RateResult {
  readonly sent: number;
  readonly failed: number;
  readonly latenciesMs: number[];
  readonly achievedRps: number;
}

function post(target: Target, agent: Agent): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: target.port,
        path: "/validate",
        method: "POST",
        agent,
        ca: target.ca,
        servername: "localhost",
        headers: {
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(target.body),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode === 200) resolve(performance.now() - started);
          else reject(new Error(`status ${String(res.statusCode)}`));
        });
      },
    );
    req.on("error", reject);
    req.end(target.body);
  });
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

/** Sends rate requests per second for durationMs (open loop: it does not wait for answers). */
export async function atRate(
  target: Target,
  rate: number,
  durationMs: number,
): Promise<RateResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const total = Math.round((rate * durationMs) / 1000);
  const latencies: number[] = [];
  let failed = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      pending.push(
        post(target, agent).then(
          (ms) => {
            latencies.push(ms);
          },
          () => {
            failed++;
          },
        ),
      );
    }
    await tick();
  }
  await Promise.all(pending);
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { sent, failed, latenciesMs: latencies, achievedRps: latencies.length / seconds };
}

export interface SaturateResult {
  readonly rps: number;
  readonly requests: number;
}

/** clients send back to back for durationMs: requests per second at saturation. */
export async function saturate(
  target: Target,
  clients: number,
  durationMs: number,
): Promise<SaturateResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const deadline = performance.now() + durationMs;
  let done = 0;
  const client = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await post(target, agent);
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const rps = done / ((performance.now() - start) / 1000);
  agent.destroy();
  return { rps, requests: done };
}
