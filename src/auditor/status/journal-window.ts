import type { ChainHead, JournalRecord } from "../journal/record.js";
import type { JournalStore } from "../journal/store.js";
import { objectKey } from "./model.js";

/** Heals read per query while looking for one (same kind and name, another namespace). */
const HEAL_PAGE = 100;

/**
 * The newest records of the journal, for the status page (and single records by seq, for the
 * record view). Reading and parsing 5,000 records takes about 40 ms of the leader's event loop,
 * and each open page reloads every 10 s: so the window is kept between views and only the
 * records appended since are read.
 */
export class JournalWindow {
  private readonly journal: JournalStore;
  private readonly size: number;
  private records: JournalRecord[] = [];
  private seq = 0;

  constructor(journal: JournalStore, size: number) {
    this.journal = journal;
    this.size = size;
  }

  /** The journal's head and its newest records (at most size), oldest first. */
  read(): { head: ChainHead; records: readonly JournalRecord[] } {
    const head = this.journal.head();
    if (head.seq < this.seq) {
      // Another journal file than the one read before: start over.
      this.records = [];
      this.seq = 0;
    }
    if (head.seq > this.seq) {
      const from = Math.max(this.seq, head.seq - this.size);
      const added = this.journal.list({ afterSeq: from, limit: this.size });
      this.records = [...this.records, ...added].slice(-this.size);
      this.seq = head.seq;
    }
    return { head, records: this.records };
  }

  /** One record by its seq, of any age (the record view); undefined when there is none. */
  record(seq: number): JournalRecord | undefined {
    const [found] = this.journal.list({ afterSeq: seq - 1, limit: 1 });
    return found?.seq === seq ? found : undefined;
  }

  /**
   * The heal of a drift: the first drift-healed record of the same object after it, the one
   * the drift timeline pairs it with (model.ts driftTimeline). Read from the store by the
   * indexed columns, so a drift older than the window still finds its heal.
   */
  healOf(drift: JournalRecord): JournalRecord | undefined {
    const o = drift.object;
    if (o === undefined) return undefined;
    const key = objectKey(o);
    const where = { type: "drift-healed", kind: o.kind, name: o.name };
    const query = o.namespace === undefined ? where : { ...where, namespace: o.namespace };
    let afterSeq = drift.seq;
    for (;;) {
      const page = this.journal.list({ ...query, afterSeq, limit: HEAL_PAGE });
      const heal = page.find((r) => objectKey(r.object) === key);
      const last = page.at(-1);
      if (heal !== undefined || last === undefined || page.length < HEAL_PAGE) return heal;
      afterSeq = last.seq;
    }
  }
}
