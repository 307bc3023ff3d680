import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ChainHead, JournalRecord } from "../auditor/journal/record.js";
import { JOURNAL_FILE, JournalStore, type JournalQuery } from "../auditor/journal/store.js";
import { linksOf, verifyChain, type VerifyResult } from "../auditor/journal/verify.js";
import { ErrorCodes, GuardError, errorMessage } from "../errors.js";
import { realClock } from "../runtime/clock.js";

export interface JournalPage {
  readonly items: JournalRecord[];
  readonly head: ChainHead;
  readonly next?: number;
}

/** Where `gitops-guard audit` reads the journal: the file in a state directory, or the ops server. */
export interface JournalSource {
  page(query: JournalQuery): Promise<JournalPage>;
  verify(anchor?: ChainHead): Promise<VerifyResult>;
  close(): void;
}

function stateDirSource(dir: string): JournalSource {
  const path = join(dir, JOURNAL_FILE);
  // Opening would create an empty journal; a reader must not, and must say what is missing.
  if (!existsSync(path)) {
    throw new GuardError(
      ErrorCodes.JOURNAL_OPEN_FAILED,
      `no audit journal at ${path} (is --state-dir the directory the service runs with?)`,
    );
  }
  const store = JournalStore.open(path, realClock());
  return {
    page: (query) => {
      const items = store.list(query);
      const last = items.at(-1);
      return Promise.resolve({
        items,
        head: store.head(),
        ...(last === undefined ? {} : { next: last.seq }),
      });
    },
    verify: (anchor) => Promise.resolve(verifyChain(store.links(), anchor)),
    close: () => {
      store.close();
    },
  };
}

function serverSource(base: string): JournalSource {
  const page = async (query: JournalQuery): Promise<JournalPage> => {
    const url = new URL("/api/v1/journal", base);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined)
        url.searchParams.set(key === "username" ? "user" : key, String(value));
    }
    let res: Response;
    try {
      res = await fetch(url);
    } catch (err: unknown) {
      throw new GuardError(
        ErrorCodes.JOURNAL_OPEN_FAILED,
        `cannot reach ${url.origin}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    if (!res.ok)
      throw new GuardError(
        ErrorCodes.JOURNAL_OPEN_FAILED,
        `${url.href}: HTTP ${String(res.status)} ${await res.text()}`,
      );
    return (await res.json()) as JournalPage;
  };
  return {
    page,
    async verify(anchor) {
      // Read every page, then check the chain over the records as the server sent them.
      const records: JournalRecord[] = [];
      let afterSeq = 0;
      for (;;) {
        const next = await page({ afterSeq, limit: 10_000 });
        records.push(...next.items);
        if (next.next === undefined || next.items.length === 0) break;
        afterSeq = next.next;
      }
      return verifyChain(linksOf(records), anchor);
    },
    close: () => undefined,
  };
}

export function openJournalSource(opts: { stateDir?: string; server?: string }): JournalSource {
  if (opts.server !== undefined) return serverSource(opts.server);
  if (opts.stateDir !== undefined) return stateDirSource(opts.stateDir);
  throw new GuardError(
    ErrorCodes.CONFIG_INVALID,
    "say where the journal is: --state-dir DIR or --server URL",
  );
}
