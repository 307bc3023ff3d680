import express from "express";
import type { ComponentContext } from "../../component-context.js";
import { startServer, type RunningServer, type TlsMaterial } from "../../http/server.js";
import type { Logger } from "../../telemetry/log.js";
import type { AuditorMetrics } from "../metrics.js";
import { createAuditParser } from "./audit-events.js";
import { auditWebhookRouter } from "./audit-webhook.js";
import type { BackstopEntry } from "./backstop-denials.js";
import { BackstopJournal } from "./backstop-journal.js";
import type { AuditFact } from "./facts.js";
import type { FactIndex } from "./index.js";

export interface AuditServerOptions {
  readonly listen: string;
  readonly tls: TlsMaterial;
  /** The bearer token the API server must send (see auditWebhookRouter). */
  readonly token?: string;
  /** Where the requests go, as attribution facts. */
  readonly audit: FactIndex<AuditFact>;
  /** Journals a compiled policy's denial once (EventJournal.onBackstopDenial). */
  readonly journalDenial: (entry: BackstopEntry, receivedMs: number) => void;
  readonly metrics: AuditorMetrics;
  readonly logger: Logger;
}

/**
 * The HTTPS server the API server's audit webhook backend posts to. Each request becomes an
 * attribution fact; each denial by a compiled ValidatingAdmissionPolicy, which the admission
 * webhook never hears of, becomes an admission-denied record. close() waits for the denials
 * already received to be journaled, so the journal can be closed after it.
 */
export async function startAuditServer(
  ctx: ComponentContext,
  options: AuditServerOptions,
): Promise<RunningServer> {
  const denials = new BackstopJournal({
    // Audit events name resources by plural, the journal by kind.
    kindOf: (apiVersion, plural) => ctx.kube.kindOf(apiVersion, plural),
    journal: options.journalDenial,
    logger: options.logger,
  });
  const router = auditWebhookRouter({
    ...(options.token === undefined ? {} : { token: options.token }),
    parse: createAuditParser({
      onDenial: (denial) => {
        denials.add(denial);
      },
    }),
    onFacts: (facts) => {
      for (const fact of facts) options.audit.add(fact);
    },
    onBatch: (outcome, events) => {
      options.metrics.auditEvents.inc({ outcome }, Math.max(events, 1));
    },
  });
  const app = express();
  app.disable("x-powered-by");
  app.use(router);
  const server = await startServer({
    app,
    listen: options.listen,
    tls: options.tls,
    logger: ctx.logger,
    clock: ctx.clock,
  });
  return {
    port: server.port,
    url: server.url,
    close: async () => {
      await server.close();
      await denials.idle();
    },
    setTls: (tls) => {
      server.setTls(tls);
    },
  };
}
