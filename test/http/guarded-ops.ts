// An ops server as a release runs it, on the real API server: the chart's RBAC (its reader roles
// bound through values), the ops app asking as the chart's controller account, a journal with
// records, the status page and kubeseal's endpoints, and service-account tokens for callers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { journalRouter } from "../../src/auditor/journal/http.js";
import { JOURNAL_FILE, JournalStore } from "../../src/auditor/journal/store.js";
import { statusRouter } from "../../src/auditor/status/route.js";
import { generateSealingKey } from "../../src/crypto/sealing/keygen.js";
import { Keyring } from "../../src/crypto/sealing/keyring.js";
import { createOpsApp } from "../../src/http/ops.js";
import { startServer } from "../../src/http/server.js";
import type { RestRequest } from "../../src/kube/rest.js";
import { secretsRouter } from "../../src/secrets/routes.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { installRbac } from "../chart/cluster.js";
import { clientAs, testNamespace } from "../envtest/context.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { sink, type LogSink } from "../helpers/log-sink.js";
import { serviceAccountToken, serviceAccountUser, waitForAccess } from "../helpers/ops-access.js";

export type Caller = "reader" | "prometheus" | "nobody";

export interface GuardedOps {
  readonly ns: string;
  readonly url: string;
  /** The chart's fullname: its roles are <fullname>-journal-reader and -metrics-reader. */
  readonly fullname: string;
  readonly tokens: Readonly<Record<Caller, string>>;
  /** The path of every request the ops server sent the API server, in order. */
  readonly reviews: readonly string[];
  /** Drives the answers' expiry. */
  readonly clock: FakeClock;
  readonly logs: LogSink;
}

const CALLERS: readonly Caller[] = ["reader", "prometheus", "nobody"];

function journalIn(dir: string, clock: FakeClock): JournalStore {
  const store = JournalStore.open(join(dir, JOURNAL_FILE), clock);
  for (const name of ["web", "api"]) {
    store.append({
      type: "drift-detected",
      object: { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name },
      user: { username: "alice", groups: [] },
      diff: [{ path: "/spec/replicas", op: "replace", from: 1, to: 2 }],
    });
  }
  return store;
}

async function opsRouters(clock: FakeClock): Promise<ReturnType<typeof statusRouter>[]> {
  const dir = mkdtempSync(join(tmpdir(), "gg-ops-auth-"));
  const store = journalIn(dir, clock);
  onTestFinished(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { key } = await generateSealingKey({ now: clock.now(), bits: 2048 });
  const keyring = new Keyring([key]);
  return [
    // A standby's status page (503): what matters is that it is not refused.
    statusRouter({ sources: () => undefined, clock }),
    secretsRouter({ keyring: () => Promise.resolve(keyring), clock }),
    journalRouter(store),
  ];
}

/**
 * Starts the ops app with the release's RBAC: "reader" is bound through journal.readers,
 * "prometheus" through metrics.readers, "nobody" through nothing. `identity` names the user the
 * ops server asks as, given the test's namespace (default: the chart's controller account).
 */
export async function startGuardedOps(identity?: (ns: string) => string): Promise<GuardedOps> {
  const ns = await testNamespace("ops");
  const fullname = `${ns}-gitops-guard`;
  await installRbac(ns, ns, {
    journal: { readers: [{ kind: "ServiceAccount", name: "reader" }] },
    metrics: { readers: [{ kind: "ServiceAccount", name: "prometheus" }] },
  });
  const asker = identity?.(ns) ?? serviceAccountUser(ns, `${fullname}-controller`);
  const tokenReviews = { group: "authentication.k8s.io", resource: "tokenreviews" };
  await waitForAccess(asker, { resource: tokenReviews }, identity === undefined);
  await waitForAccess(serviceAccountUser(ns, "reader"), { path: "/gitops-guard/api/v1/journal" });
  await waitForAccess(serviceAccountUser(ns, "prometheus"), { path: "/metrics" });
  const tokens = Object.fromEntries(
    await Promise.all(CALLERS.map(async (c) => [c, await serviceAccountToken(ns, c)] as const)),
  ) as Record<Caller, string>;
  const reviews: string[] = [];
  const kube = clientAs("admin").impersonating({ user: asker });
  // A spy, not a stand-in: every review still goes to the API server as `asker`.
  const spy = {
    json: <T>(req: RestRequest): Promise<T> => {
      reviews.push(req.path);
      return kube.rest.json<T>(req);
    },
  };
  const clock = new FakeClock();
  const logs = sink();
  const logger = createLogger({ level: "debug", destination: logs.stream });
  const app = createOpsApp({
    metrics: createMetrics({ version: "9.9.9", node: "v24.0.0" }),
    readiness: () => ({ ready: true, checks: {} }),
    logger,
    routers: await opsRouters(clock),
    auth: { kube: { rest: spy }, clock },
  });
  const server = await startServer({ app, listen: "127.0.0.1:0", logger });
  onTestFinished(() => server.close());
  return { ns, url: server.url, fullname, tokens, reviews, clock, logs };
}
