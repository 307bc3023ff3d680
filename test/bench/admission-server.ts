// The server side of admission.bench.ts, in a process of its own so the load generator does not
// share its event loop: `webhook` (the real admission app under the DESIGN.md policy) or `bare`
// (node:https answering one constant AdmissionReview), with the same certificate, keep-alive
// and timeouts. Prints the port, serves until stdin closes.
import { createServer } from "node:https";
import { readFileSync } from "node:fs";
import { createAdmissionCore } from "../../src/admission/core.js";
import { admissionMetrics } from "../../src/admission/metrics.js";
import { createAdmissionApp } from "../../src/admission/router.js";
import { SERVER_LIMITS, startServer } from "../../src/http/server.js";
import { realClock } from "../../src/runtime/clock.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics } from "../../src/telemetry/metrics.js";

const [kind, certFile, keyFile, policyFile] = process.argv.slice(2);
const tls = {
  cert: readFileSync(certFile ?? "", "utf8"),
  key: readFileSync(keyFile ?? "", "utf8"),
};
const logger = createLogger({ level: "silent" });

const CONSTANT = JSON.stringify({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  response: { uid: "00000000-0000-0000-0000-000000000000", allowed: true },
});

async function bare(): Promise<number> {
  const server = createServer({
    ...tls,
    minVersion: "TLSv1.2",
    headersTimeout: SERVER_LIMITS.headersTimeoutMs,
    requestTimeout: SERVER_LIMITS.requestTimeoutMs,
    keepAliveTimeout: SERVER_LIMITS.keepAliveTimeoutMs,
    maxHeaderSize: SERVER_LIMITS.maxHeaderSize,
  });
  server.on("request", (req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "Content-Type": "application/json" }).end(CONSTANT);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return typeof address === "object" && address !== null ? address.port : 0;
}

async function webhook(): Promise<number> {
  const core = createAdmissionCore();
  const policies = core.policies.parseYaml(readFileSync(policyFile ?? "", "utf8"));
  const metrics = createMetrics();
  const app = createAdmissionApp({
    core,
    view: () => ({ policies, context: {} }),
    clock: realClock(),
    logger,
    metrics,
    admission: admissionMetrics(metrics.registry),
  });
  const server = await startServer({ app, listen: "127.0.0.1:0", tls, logger });
  return server.port;
}

const port = kind === "bare" ? await bare() : await webhook();
process.stdout.write(`${String(port)}\n`);
// Each line on stdin asks for the CPU time used so far (user + system, microseconds), so the
// benchmark can compare the servers' cost per request whatever else the machine is doing.
process.stdin.setEncoding("utf8");
process.stdin.on("data", () => {
  const { user, system } = process.cpuUsage();
  process.stdout.write(`${String(user + system)}\n`);
});
process.stdin.on("end", () => process.exit(0));
