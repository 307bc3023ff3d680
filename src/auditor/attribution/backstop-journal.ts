import { errorMessage } from "../../errors.js";
import type { Logger } from "../../telemetry/log.js";
import { backstopEntry, type BackstopDenial, type BackstopEntry } from "./backstop-denials.js";

export interface BackstopJournalDeps {
  /** The object's kind from its resource (discovery); undefined when it is not served. */
  readonly kindOf: (apiVersion: string, plural: string) => Promise<string | undefined>;
  /** Writes the record unless it is journaled already (EventJournal.onBackstopDenial). */
  readonly journal: (entry: BackstopEntry, receivedMs: number) => void;
  readonly logger: Logger;
  /** Denials waiting for their kind at most; more are dropped (a flood must not pile up). */
  readonly maxPending?: number;
}

/**
 * Turns the backstop denials the audit webhook reports into journal records, one at a time
 * and in the order they came: resolving a kind is asynchronous, and the exactly-once check
 * and the append must see every earlier denial journaled.
 */
export class BackstopJournal {
  private readonly deps: BackstopJournalDeps;
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(deps: BackstopJournalDeps) {
    this.deps = deps;
  }

  add(denial: BackstopDenial): void {
    if (this.pending >= (this.deps.maxPending ?? 10_000)) {
      this.deps.logger.warn(
        { auditId: denial.auditId },
        "backstop denial dropped: too many queued",
      );
      return;
    }
    this.pending++;
    // Never rejects: a failed denial must not stop the ones queued behind it.
    this.tail = this.tail.then(async () => {
      try {
        const kind = await this.kindOf(denial);
        this.deps.journal(backstopEntry(denial, kind), denial.receivedMs);
      } catch (err: unknown) {
        this.deps.logger.error(
          { err: errorMessage(err), auditId: denial.auditId },
          "cannot journal a backstop denial",
        );
      } finally {
        this.pending--;
      }
    });
  }

  /** Resolves when every denial added so far is journaled (or failed); for a clean stop. */
  idle(): Promise<void> {
    return this.tail;
  }

  /** The kind, or the resource itself when discovery cannot say: the denial is journaled anyway. */
  private async kindOf(denial: BackstopDenial): Promise<string> {
    try {
      const kind = await this.deps.kindOf(denial.apiVersion, denial.resource);
      if (kind !== undefined) return kind;
      this.deps.logger.warn(
        { apiVersion: denial.apiVersion, resource: denial.resource },
        "the API server does not serve this resource; journaling the denial under its plural",
      );
    } catch (err: unknown) {
      this.deps.logger.warn(
        { err: errorMessage(err), apiVersion: denial.apiVersion, resource: denial.resource },
        "cannot resolve the denied object's kind; journaling it under its plural",
      );
    }
    return denial.resource;
  }
}
