import type { ChainHead, JournalRecord } from "../journal/record.js";
import type { JournalStore } from "../journal/store.js";

/**
 * The newest records of the journal, for the status page. Reading and parsing 5,000 records
 * takes about 40 ms of the leader's event loop, and each open page reloads every 10 s: so the
 * window is kept between views and only the records appended since are read.
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
}
