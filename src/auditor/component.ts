import { Router } from "express";
import type { ComponentContext } from "../component-context.js";
import { errorMessage } from "../errors.js";
import type { RunningServer, TlsMaterial } from "../http/server.js";
import { FIELD_MANAGER } from "../kube/client.js";
import type { KubeObject } from "../kube/objects.js";
import type { Component } from "../runtime/component.js";
import { runWorkers } from "../runtime/controller.js";
import { Closers } from "../runtime/closers.js";
import { WorkQueue } from "../runtime/queue.js";
import { startAlerting } from "./alerts/wiring.js";
import { EVENT, GIT_SYNC, GUARD_POLICY, NAMESPACE, informerOf, untilAborted } from "./informers.js";
import { ADMISSION_EVENT_SELECTOR } from "./attribution/admission-events.js";
import { startAuditServer } from "./attribution/audit-server.js";
import type { AdmissionFact, AuditFact } from "./attribution/facts.js";
import { FactIndex } from "./attribution/index.js";
import { auditObject, queueKey } from "./audit-object.js";
import { BreakGlassBook } from "./break-glass.js";
import { DriftTracker } from "./drift-tracker.js";
import { EventJournal } from "./event-journal.js";
import { journalRouter } from "./journal/http.js";
import type { JournalStore } from "./journal/store.js";
import { createAuditorMetrics, type AuditorMetrics } from "./metrics.js";
import { lastPolicyRecords, POLICY_KEY_PREFIX, PolicyAudit, policyKey } from "./policy-audit.js";
import { DriftRecorder, type RecordListener } from "./recorder.js";
import { restoreTracked, whereOf } from "./restore.js";
import { buildScope, emptyScope, newlyInventoried, objectId, type Scope } from "./scope.js";
import { FACT_KEY_PREFIX, UnseenFacts, onGuardEvent } from "./unseen-facts.js";
import { openStores, type StoreOptions } from "./stores.js";
import { cachedFor, JOURNAL_WINDOW, listKeySecrets, type StatusSources } from "./status/collect.js";
import { JournalWindow } from "./status/journal-window.js";
import { statusRouter } from "./status/route.js";
import { WatchSet } from "./watch-set.js";

export interface AuditorOptions extends StoreOptions {
  /** Serve the API server's audit webhook over HTTPS here (host:port; port 0 picks one). */
  /** token: what the API server's audit webhook kubeconfig sends; set it in a cluster. */
  readonly auditWebhook?: {
    readonly listen: string;
    readonly tls: TlsMaterial;
    readonly token?: string;
  };
  /** How long an unattributed change waits for its audit event or admission Event. Default 3 s. */
  readonly attributionGraceMs?: number;
  /** How long an unattributed deletion of an owned object waits for its prune; default 10 s. */
  readonly pruneWaitMs?: number;
  /** Told of every record written, besides the alert sinks. */
  readonly onRecord?: RecordListener;
}

export interface AuditorComponent extends Component {
  /** GET /api/v1/journal and the /status page, for the ops server; 503 until the journal is open. */
  routes(): Router;
  /** The audit webhook's URL once running (https://host:port/audit/v1/events base). */
  auditWebhookUrl(): string | undefined;
}

interface Running {
  journal?: { readonly store: JournalStore; readonly router: Router };
  status?: StatusSources;
  webhook?: RunningServer | undefined;
  metrics?: AuditorMetrics;
  readonly breakGlass: BreakGlassBook;
  readonly ready: Record<string, boolean>;
}

export function createAuditorComponent(
  ctx: ComponentContext,
  options: AuditorOptions = {},
): AuditorComponent {
  const state: Running = { ready: { "informer:auditor": false }, breakGlass: new BreakGlassBook() };
  const router = Router();
  router.use(statusRouter({ sources: () => state.status, clock: ctx.clock }));
  router.use("/api/v1/journal", (_req, res, next) => {
    if (state.journal === undefined) res.status(503).json({ message: "the journal is not open" });
    else next();
  });
  router.use((req, res, next) => {
    if (state.journal === undefined) next();
    else state.journal.router(req, res, next);
  });
  return {
    name: "auditor",
    leaderOnly: true,
    run: (signal) => runAuditor(ctx, options, state, signal),
    readiness: () => ({ ...state.ready }),
    routes: () => router,
    auditWebhookUrl: () => state.webhook?.url,
  };
}

/** One run of the auditor (it runs again when its replica regains the lease). */
interface AuditorRun {
  readonly ctx: ComponentContext;
  readonly options: AuditorOptions;
  readonly state: Running;
  readonly metrics: AuditorMetrics;
  /** What the run opened: closed newest first when it ends, a failed start included. */
  readonly closers: Closers;
}

async function runAuditor(
  ctx: ComponentContext,
  options: AuditorOptions,
  state: Running,
  signal: AbortSignal,
): Promise<void> {
  // Registered once per process: a replica that regains leadership runs again.
  state.metrics ??= createAuditorMetrics(ctx.metrics.registry, () =>
    state.breakGlass.active(ctx.clock.now()),
  );
  const run: AuditorRun = { ctx, options, state, metrics: state.metrics, closers: new Closers() };
  try {
    await audit(run, signal);
  } finally {
    state.ready["informer:auditor"] = false;
    state.breakGlass.clear();
    delete state.status;
    await run.closers.closeAll((err) => {
      ctx.logger.warn({ err: errorMessage(err) }, "cannot close what the auditor opened");
    });
  }
}

async function audit(run: AuditorRun, signal: AbortSignal): Promise<void> {
  const { ctx, options, state, metrics, closers } = run;
  // main.ts has labelled the component's logger already.
  const logger = ctx.logger;
  const { journal, baselines } = openStores(ctx.config.stateDir, options, ctx.clock, closers);
  state.journal = { store: journal, router: journalRouter(journal) };
  closers.add(() => {
    delete state.journal;
  });
  metrics.journalRecords.set(journal.count());
  const audit = new FactIndex<AuditFact>({ clock: ctx.clock });
  const admission = new FactIndex<AdmissionFact>({ clock: ctx.clock });
  const queue = new WorkQueue<string>({ clock: ctx.clock });
  closers.add(() => {
    queue.shutDown();
  });
  const watches = new WatchSet({
    kube: ctx.kube,
    clock: ctx.clock,
    logger,
    onChange: (kind, key) => {
      queue.add(queueKey(kind, key));
    },
    onInformerError: (resource) => {
      ctx.metrics.informerRestarts.inc({ resource });
    },
  });
  const policies = informerOf(ctx, GUARD_POLICY);
  const gitSyncs = informerOf(ctx, GIT_SYNC);
  const events = informerOf(ctx, EVENT, ADMISSION_EVENT_SELECTOR);
  // Namespace labels, for policies' namespaceSelector.
  const namespaces = informerOf(ctx, NAMESPACE);
  const informers = [policies, gitSyncs, events, namespaces];
  closers.add(() => Promise.all([...informers.map((i) => i.stop()), watches.stop()]));
  state.status = {
    journal: new JournalWindow(journal, JOURNAL_WINDOW),
    breakGlass: state.breakGlass,
    gitSyncs: () => gitSyncs.list(),
    // Listed on demand (the auditor watches no Secrets of its own namespace), at most every 10 s.
    keySecrets: cachedFor(10_000, ctx.clock, () => listKeySecrets(ctx.kube, ctx.config.namespace)),
    keyNamespace: ctx.config.namespace,
  };
  const sa = ctx.config.serviceAccounts;
  const alerting = startAlerting(ctx, metrics, logger);
  closers.add(() => alerting.stop());
  let scope: Scope = emptyScope(FIELD_MANAGER);
  const refresh = (): void => {
    const before = scope;
    scope = buildScope({
      policies: policies.list(),
      gitSyncs: gitSyncs.list(),
      productAccounts: [sa.reconciler, sa.secrets].map((name) => `${ctx.config.namespace}/${name}`),
      fieldManager: FIELD_MANAGER,
      // A tenant GitSync's account applies Git too: its writes are not drift.
      gitSyncIdentity: {
        defaultServiceAccount: ctx.config.defaultServiceAccount,
        controllerNamespace: ctx.config.namespace,
      },
    });
    alerting.configure(scope.alerts);
    for (const { kind, key } of newlyInventoried(before, scope)) queue.add(queueKey(kind, key));
    watches.ensure(scope.kinds).catch((err: unknown) => {
      logger.warn({ err: errorMessage(err) }, "cannot watch the guarded kinds");
    });
  };
  for (const informer of [policies, gitSyncs]) {
    for (const event of ["add", "update", "delete"] as const) informer.on(event, refresh);
  }
  for (const event of ["add", "update", "delete"] as const) {
    policies.on(event, (policy: KubeObject) => {
      queue.add(policyKey(policy.metadata.name ?? ""));
    });
  }
  const recorder = new DriftRecorder({
    journal,
    metrics,
    logger,
    onRecord: (record, origin) => {
      // A drift joined to an admission fact names its Event: never journaled again.
      if (record.event !== undefined) eventJournal.note(record);
      alerting.onRecord(record, origin);
      options.onRecord?.(record, origin);
    },
  });
  // Denials, Secrets unsealed, keys generated: records of their own, once per Event. Later
  // updates of an Event (a series count) are not new facts, so only adds are read.
  const eventJournal = EventJournal.open({
    journal,
    recorder,
    logger,
    keyNamespace: ctx.config.namespace,
    startMs: ctx.clock.now(),
  });
  const graceMs = options.attributionGraceMs ?? 3000;
  const tracker = new DriftTracker((id, kept) => {
    baselines.keep(id, whereOf(kept), kept);
  });
  const unseen = new UnseenFacts({
    clock: ctx.clock,
    read: (ref) => ctx.kube.get(ref),
    journal,
    eventJournal,
    recorder,
    originOf: (f) => scope.inventory.get(objectId(f.group, f.kind, f.namespace, f.name)),
    baselineOf: (f) => tracker.baselineOf(objectId(f.group, f.kind, f.namespace, f.name)),
    settleMs: graceMs + 2000,
    reconcilers: () => scope.reconcilers,
    onOutcome: (outcome) => {
      metrics.unseenFacts.inc({ outcome });
    },
  });
  events.on("add", (event: KubeObject) => {
    onGuardEvent(event, { admission, eventJournal, unseen, queue });
  });
  const policyAudit = new PolicyAudit({
    clock: ctx.clock,
    recorder,
    audit,
    graceMs,
    get: (name) => policies.get(name),
    journaled: () => lastPolicyRecords(journal),
  });
  // Denials by the compiled policies never reach the webhook: the audit webhook reports them.
  state.webhook =
    options.auditWebhook === undefined
      ? undefined
      : await startAuditServer(ctx, {
          ...options.auditWebhook,
          audit,
          journalDenial: (entry, receivedMs) => {
            eventJournal.onBackstopDenial(entry, receivedMs, ctx.clock.now());
          },
          metrics,
          logger,
        });
  // It waits for the denials it received to be journaled, so it closes before the journal.
  closers.add(async () => {
    await state.webhook?.close();
    delete state.webhook;
  });
  for (const informer of informers) informer.start();
  const stop = (): void => {
    queue.shutDown();
  };
  signal.addEventListener("abort", stop, { once: true });
  const synced = informers.map((i) => i.waitForSync());
  await untilAborted(Promise.all(synced), signal);
  policyAudit.seed(policies.list());
  refresh();
  await untilAborted(watches.ensure(scope.kinds), signal);
  const kinds = [...watches.kinds.values()].map((k) => k.informer.waitForSync());
  await untilAborted(Promise.all(kinds), signal);
  restoreTracked({ baselines, tracker, watches, queue, logger });
  state.ready["informer:auditor"] = !signal.aborted;
  await runWorkers({
    queue,
    signal,
    clock: ctx.clock,
    reconcile: (key) =>
      key.startsWith(POLICY_KEY_PREFIX) || key.startsWith(FACT_KEY_PREFIX)
        ? Promise.resolve(
            key.startsWith(FACT_KEY_PREFIX)
              ? unseen.reconcile(key.slice(FACT_KEY_PREFIX.length))
              : policyAudit.reconcile(key.slice(POLICY_KEY_PREFIX.length)),
          )
        : auditObject(
            {
              clock: ctx.clock,
              logger,
              scope: () => scope,
              kinds: watches.kinds,
              tracker,
              recorder,
              breakGlass: state.breakGlass,
              audit,
              admission,
              consumed: (uid) => eventJournal.hasEvent(uid),
              productNamespace: ctx.config.namespace,
              graceMs,
              ...(options.pruneWaitMs === undefined ? {} : { pruneWaitMs: options.pruneWaitMs }),
              namespaceLabels: (name) => namespaces.get(name)?.metadata.labels,
            },
            key,
          ),
    onResult: (_key, outcome, durationMs, error) => {
      ctx.metrics.reconcileTotal.inc({ controller: "auditor", outcome });
      ctx.metrics.reconcileDuration.observe({ controller: "auditor" }, durationMs / 1000);
      if (error !== undefined) logger.warn({ err: errorMessage(error) }, "audit reconcile failed");
    },
  });
}
