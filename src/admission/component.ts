/**
 * The admission component: on every replica (not leader-elected), an HTTPS webhook that judges
 * each AdmissionReview with decide() over what the informers hold, the TLS it needs (its own CA
 * in a shared Secret, or cert-manager's), its registration with the API server, and the
 * ValidatingAdmissionPolicies compiled from the GuardPolicies. Ready once the informers synced,
 * the server listens and the webhook is registered.
 */
import type { ComponentContext } from "../component-context.js";
import { serviceAccountUsername } from "../presets/gitsync-identity.js";
import { errorMessage } from "../errors.js";
import { startServer, type RunningServer } from "../http/server.js";
import type { Component } from "../runtime/component.js";
import { BackstopController } from "./backstop.js";
import { ClusterView } from "./cluster-view.js";
import { createAdmissionCore } from "./core.js";
import { decisionEvents } from "./denial-repeats.js";
import { FactBatches } from "./fact-batches.js";
import { kubeEventSink } from "./events.js";
import { admissionMetrics, type AdmissionMetrics } from "./metrics.js";
import { registerWebhook, type Registration } from "./registration.js";
import { createAdmissionApp } from "./router.js";
import { certificateFacts } from "./tls/issue.js";
import { keepTlsFresh } from "./tls/reload.js";
import { selectTlsSource, type TlsOption } from "./tls/select.js";
import type { ServingMaterial, TlsSource } from "./tls/source.js";
import { webhookEndpoint, webhookHosts } from "./webhook-address.js";
import { WEBHOOK_CONFIGURATION_NAME } from "./webhook-config.js";

export interface AdmissionOptions {
  /** The ValidatingWebhookConfiguration's name (default gitops-guard). */
  readonly webhookName?: string;
  /** The Service in front of the webhook pods (default: the webhook service account's name). */
  readonly serviceName?: string;
  readonly tls?: TlsOption;
  /** Limit the webhook and the compiled policies to these namespaces (tests). */
  readonly namespaces?: readonly string[];
  /** Only GuardPolicies with these labels (tests). */
  readonly policySelector?: string;
  /** Compile GuardPolicies into ValidatingAdmissionPolicies (default true). */
  readonly backstop?: boolean;
  /**
   * Out of a cluster, the URL the API server is told to call instead of this process's own: a
   * load balancer in front of several replicas, as a Service is in a cluster.
   */
  readonly advertisedUrl?: string;
  /**
   * Write an attribution fact (an Event) for every allowed out-of-band write (default true).
   * Off only to measure what the facts cost (test/bench/admission-writes.ts).
   */
  readonly attributionFacts?: boolean;
  /** The webhook's failurePolicy when it registers itself (default Ignore). */
  readonly failurePolicy?: "Ignore" | "Fail";
  readonly onInternalError?: "deny" | "allow";
}

interface Progress {
  view?: ClusterView;
  listening: boolean;
  registered: boolean;
}

const RETRY_MS = 2000;

export function createAdmissionComponent(
  ctx: ComponentContext,
  options: AdmissionOptions = {},
): Component {
  const progress: Progress = { listening: false, registered: false };
  return {
    name: "admission",
    leaderOnly: false,
    readiness: () => ({
      "admission:informers": progress.view?.synced() ?? false,
      "admission:server": progress.listening,
      "admission:webhook-registered": progress.registered,
    }),
    run: (signal) => runAdmission({ ctx, options, progress }, signal),
  };
}

interface Run {
  readonly ctx: ComponentContext;
  readonly options: AdmissionOptions;
  readonly progress: Progress;
}

/** Runs fn until it succeeds or signal aborts (then undefined): the API server may be late. */
async function retrying<T>(
  run: Run,
  what: string,
  fn: () => Promise<T>,
  signal: AbortSignal,
): Promise<T | undefined> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      return await fn();
    } catch (err: unknown) {
      run.ctx.logger.warn({ err: errorMessage(err), attempt }, `cannot ${what}; retrying`);
      await run.ctx.clock.sleep(Math.min(30_000, RETRY_MS * attempt), signal);
    }
  }
  return undefined;
}

function registrationOf(run: Run): Registration {
  const { ctx, options } = run;
  const name = options.webhookName ?? WEBHOOK_CONFIGURATION_NAME;
  if (ctx.config.kubeconfig === undefined) return { mode: "ca-bundle", name };
  return {
    mode: "url",
    name,
    ownNamespace: ctx.config.namespace,
    ...(options.failurePolicy === undefined ? {} : { failurePolicy: options.failurePolicy }),
    ...(options.namespaces === undefined ? {} : { namespaces: options.namespaces }),
  };
}

async function tlsSourceOf(run: Run): Promise<TlsSource> {
  const { ctx, options } = run;
  const hosts = webhookHosts(ctx.config, options);
  const context = {
    kube: ctx.kube,
    clock: ctx.clock,
    logger: ctx.logger,
    namespace: ctx.config.namespace,
    hosts,
  };
  return selectTlsSource(options.tls ?? { mode: "auto" }, context);
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else
      signal.addEventListener(
        "abort",
        () => {
          resolve();
        },
        { once: true },
      );
  });
}

function expiryOf(material: ServingMaterial, metrics: AdmissionMetrics): void {
  try {
    metrics.certificateExpiry.set(certificateFacts(material.cert).notAfter / 1000);
  } catch {
    // An unreadable certificate fails at the TLS layer, with a better message.
  }
}

function buildApp(
  run: Run,
  view: ClusterView,
  metrics: AdmissionMetrics,
  signal: AbortSignal,
): ReturnType<typeof createAdmissionApp> {
  const { ctx, options } = run;
  const core = createAdmissionCore(
    options.onInternalError === undefined ? {} : { onInternalError: options.onInternalError },
  );
  const events = kubeEventSink({
    kube: ctx.kube,
    logger: ctx.logger,
    onOutcome: (outcome) => {
      metrics.events.inc({ outcome });
    },
  });
  const batches = new FactBatches({
    sink: events,
    clock: ctx.clock,
    onDropped: () => {
      metrics.events.inc({ outcome: "dropped" });
    },
  });
  // What waits in a window goes out as the webhook stops, not with it.
  signal.addEventListener("abort", () => {
    batches.flush();
  });
  return createAdmissionApp({
    core,
    view: () => view.view(),
    clock: ctx.clock,
    logger: ctx.logger,
    metrics: ctx.metrics,
    admission: metrics,
    ...(options.onInternalError === undefined ? {} : { onInternalError: options.onInternalError }),
    onDecision: decisionEvents({
      sink: events,
      clock: ctx.clock,
      instance: ctx.config.identity,
      batches,
      ...(options.attributionFacts === undefined ? {} : { facts: options.attributionFacts }),
    }),
  });
}

interface Serving {
  readonly source: TlsSource;
  readonly material: ServingMaterial;
  readonly server: RunningServer;
}

async function serve(
  run: Run,
  view: ClusterView,
  metrics: AdmissionMetrics,
  signal: AbortSignal,
): Promise<Serving | undefined> {
  const { ctx } = run;
  const source = await tlsSourceOf(run);
  const material = await retrying(run, "load the webhook certificate", () => source.load(), signal);
  if (material === undefined) return undefined;
  expiryOf(material, metrics);
  const server = await startServer({
    app: buildApp(run, view, metrics, signal),
    listen: ctx.config.webhookListen,
    tls: material,
    logger: ctx.logger,
    clock: ctx.clock,
  });
  run.progress.listening = true;
  ctx.logger.info({ url: server.url, tls: source.mode }, "admission webhook serving");
  return { source, material, server };
}

async function operate(
  run: Run,
  parts: {
    view: ClusterView;
    backstop: BackstopController;
    serving: Serving;
    metrics: AdmissionMetrics;
  },
  signal: AbortSignal,
): Promise<void> {
  const { ctx } = run;
  const { serving, view } = parts;
  const registration = registrationOf(run);
  const url = webhookEndpoint(run.options, serving.server.url);
  const register = (material: ServingMaterial): Promise<void> =>
    registerWebhook(ctx.kube, registration, url, material.caBundle);
  const registered = await retrying(
    run,
    "register the webhook",
    () => register(serving.material),
    signal,
  );
  if (registered === undefined && signal.aborted) return;
  run.progress.registered = true;
  await Promise.race([view.waitForSync(), untilAborted(signal)]);
  if (signal.aborted) return;
  const fresh = keepTlsFresh(
    {
      source: serving.source,
      server: serving.server,
      clock: ctx.clock,
      logger: ctx.logger,
      current: serving.material,
      onChange: async (material) => {
        expiryOf(material, parts.metrics);
        await register(material);
      },
    },
    signal,
  );
  await Promise.all([parts.backstop.run(signal), fresh, untilAborted(signal)]);
}

async function runAdmission(run: Run, signal: AbortSignal): Promise<void> {
  const { ctx, options } = run;
  const metrics = admissionMetrics(ctx.metrics.registry);
  const view = new ClusterView({
    kube: ctx.kube,
    clock: ctx.clock,
    logger: ctx.logger,
    metrics: ctx.metrics,
    parser: createAdmissionCore().policies,
    ownNamespace: ctx.config.namespace,
    ...(options.policySelector === undefined ? {} : { policySelector: options.policySelector }),
    // Events start after view.start(), below: backstop exists by then.
    onPolicy: (name) => {
      backstop.enqueue(name);
    },
    onPolicyCount: (valid, invalid) => {
      metrics.policies.set({ state: "valid" }, valid);
      metrics.policies.set({ state: "invalid" }, invalid);
    },
    defaultServiceAccount: ctx.config.defaultServiceAccount,
    reconcilerUsername: serviceAccountUsername(
      ctx.config.namespace,
      ctx.config.serviceAccounts.reconciler,
    ),
    // Every compiled policy lists the GitSync identities: recompile them all.
    onWriters: () => {
      for (const name of view.policyNames()) backstop.enqueue(name);
    },
  });
  const backstop = new BackstopController({
    kube: ctx.kube,
    clock: ctx.clock,
    logger: ctx.logger,
    view,
    metrics,
    ownNamespace: ctx.config.namespace,
    enabled: options.backstop ?? true,
    ...(options.namespaces === undefined ? {} : { namespaces: options.namespaces }),
  });
  run.progress.view = view;
  view.start();
  try {
    const serving = await serve(run, view, metrics, signal);
    if (serving === undefined) return;
    try {
      await operate(run, { view, backstop, serving, metrics }, signal);
    } finally {
      run.progress.listening = false;
      await serving.server.close();
    }
  } finally {
    await view.stop();
  }
}
