// Measuring tools of peers-flux.bench.ts: an observer that watches a namespace's ConfigMaps and
// tells when enough of them carry the expected content, a window that reads a controller's and
// the API server's CPU time from /proc and samples the controller's resident memory, and the
// commit/GitSync helpers both sides share. Every wait is bounded in time.
import { createHmac } from "node:crypto";
import type { KubeClient } from "../../src/kube/client.js";
import { Informer } from "../../src/kube/informer.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { GITSYNC } from "../../src/reconciler/names.js";
import { realClock } from "../../src/runtime/clock.js";
import { processCpuMs } from "./bitnami-controller.js";
import { vmRssMb } from "./reconciler-scale-process.js";

const clock = realClock();
const CM = { apiVersion: "v1", kind: "ConfigMap" } as const;
export type Cm = KubeObject & { data?: Record<string, string> };
export const GIT_AUTH = "git-auth";
/** After the last object is seen, the window stays open this long: trailing status writes count. */
const SETTLE_MS = 3000;
const RSS_SAMPLE_MS = 100;

/** A watch of one namespace's ConfigMaps, as the admin, apart from both controllers. */
export class ConfigMapWatch {
  private readonly informer: Informer<Cm>;

  constructor(admin: KubeClient, namespace: string) {
    this.informer = new Informer<Cm>({ client: admin, type: CM, clock, namespace });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  get(name: string): Cm | undefined {
    return this.informer.list().find((cm) => cm.metadata.name === name);
  }

  /**
   * Resolves once count ConfigMaps satisfy want. Call it before the action it waits for: it
   * counts the cache at once and then follows every event, so none is missed.
   */
  until(want: (cm: Cm) => boolean, count: number, timeoutMs: number): Promise<void> {
    const name = (cm: Cm): string => cm.metadata.name ?? "";
    const matching = new Set(this.informer.list().filter(want).map(name));
    if (matching.size >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onChange = (cm: Cm): void => {
        if (want(cm)) matching.add(name(cm));
        else matching.delete(name(cm));
        if (matching.size < count) return;
        cleanup();
        resolve();
      };
      const offs = [
        this.informer.on("add", onChange),
        this.informer.on("update", onChange),
        this.informer.on("delete", (cm) => matching.delete(name(cm))),
      ];
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`${String(matching.size)}/${String(count)} after ${String(timeoutMs)} ms`),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        for (const off of offs) off();
      };
    });
  }
}

export interface RunFigures {
  /** From the trigger until the observer saw the last object. */
  readonly ms: number;
  /** The controller's CPU time (user + system) over the window, trigger to done + settle. */
  readonly cpuMs: number;
  readonly apiServerCpuMs: number;
  /** The largest VmRSS sampled every 100 ms over the window. */
  readonly peakRssMb: number;
}

/** Runs run() (which returns its own timed figure) in a window of CPU and memory readings. */
export async function measured(
  pids: { readonly controller: number; readonly apiServer: number },
  run: () => Promise<number>,
): Promise<RunFigures> {
  const cpu0 = processCpuMs(pids.controller);
  const api0 = processCpuMs(pids.apiServer);
  let peak = vmRssMb(pids.controller);
  const sampler = setInterval(() => {
    peak = Math.max(peak, vmRssMb(pids.controller));
  }, RSS_SAMPLE_MS);
  try {
    const ms = await run();
    await clock.sleep(SETTLE_MS);
    peak = Math.max(peak, vmRssMb(pids.controller));
    return {
      ms,
      cpuMs: processCpuMs(pids.controller) - cpu0,
      apiServerCpuMs: processCpuMs(pids.apiServer) - api0,
      peakRssMb: peak,
    };
  } finally {
    clearInterval(sampler);
  }
}

/** Milliseconds from trigger() until applied settles (both started here, in that order). */
export async function timeUntil(
  applied: () => Promise<void>,
  trigger: () => Promise<unknown>,
): Promise<number> {
  const done = applied();
  const start = performance.now();
  await trigger();
  await done;
  return performance.now() - start;
}

/** A namespace with the Git server's token in Secret git-auth (read by our GitSync). */
export async function namespaceWithToken(
  admin: KubeClient,
  namespace: string,
  token: string,
): Promise<void> {
  await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  await admin.create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: GIT_AUTH, namespace },
    stringData: { bearerToken: token },
  });
}

/** Our side's trigger for a first sync: a GitSync over HTTP with the token (pushes only: 1h). */
export async function putGitSync(admin: KubeClient, namespace: string, url: string): Promise<void> {
  await admin.apply(
    {
      ...GITSYNC,
      metadata: { name: "apps", namespace },
      spec: {
        url,
        ref: { branch: "main" },
        secretRef: { name: GIT_AUTH },
        interval: "1h",
        prune: true,
        selfHeal: true,
      },
    },
    { fieldManager: "bench" },
  );
}

/** A GitHub push event for commit, signed with secret, to our /hooks/git; expects 202. */
export async function signedPush(
  hookUrl: string,
  secret: string,
  push: { readonly cloneUrl: string; readonly commit: string },
): Promise<void> {
  const body = JSON.stringify({
    ref: "refs/heads/main",
    after: push.commit,
    repository: { clone_url: push.cloneUrl },
  });
  const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  const res = await fetch(hookUrl, {
    method: "POST",
    headers: { "x-github-event": "push", "x-hub-signature-256": signature },
    body,
  });
  if (res.status !== 202)
    throw new Error(`push answered ${String(res.status)}: ${await res.text()}`);
}
