import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { createAuditorComponent } from "../../src/auditor/component.js";
import { loadConfig } from "../../src/config.js";
import { createKubeClient } from "../../src/kube/client.js";
import { realClock } from "../../src/runtime/clock.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { kubeconfigYaml } from "../envtest/kubeconfig.js";
import { freePort } from "../envtest/processes.js";
import { sink } from "../helpers/log-sink.js";
import { makeTestCa } from "../helpers/tls.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An auditor whose API server is a closed port: its caches can never sync. */
async function unreachableAuditor(): Promise<ReturnType<typeof createAuditorComponent>> {
  const dir = mkdtempSync(join(tmpdir(), "auditor-unit-"));
  dirs.push(dir);
  const kubeconfig = join(dir, "kubeconfig");
  const server = `https://127.0.0.1:${String(await freePort())}`;
  writeFileSync(
    kubeconfig,
    kubeconfigYaml({ name: "x", server, caCert: makeTestCa().cert, token: "t" }),
  );
  const config = loadConfig({
    flags: { kubeconfig, stateDir: dir },
    env: {},
    hostname: "unit",
  });
  return createAuditorComponent({
    config,
    logger: createLogger({ level: "silent", destination: sink().stream }),
    metrics: createMetrics(),
    clock: realClock(),
    kube: createKubeClient({ kubeconfig }),
  });
}

async function get(router: express.Router, path: string): Promise<number> {
  const app = express();
  app.use(router);
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return (await fetch(`http://127.0.0.1:${String(port)}${path}`)).status;
  } finally {
    server.close();
  }
}

describe("auditor component", () => {
  it("is leader-only, answers 503 for the journal until it runs, and stops while unsynced", async () => {
    const auditor = await unreachableAuditor();
    expect(auditor.name).toBe("auditor");
    expect(auditor.leaderOnly).toBe(true);
    expect(await get(auditor.routes(), "/api/v1/journal")).toBe(503);
    const abort = new AbortController();
    const running = auditor.run(abort.signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The journal opens before the caches sync, so the API serves it at once.
    expect(await get(auditor.routes(), "/api/v1/journal")).toBe(200);
    expect(auditor.readiness()).toEqual({ "informer:auditor": false });
    const started = performance.now();
    abort.abort();
    await running;
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await get(auditor.routes(), "/api/v1/journal")).toBe(503);
  });
});
