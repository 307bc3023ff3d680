/**
 * What a start has opened so far (stores, servers, informers, threads), closed newest first
 * when the run ends, however it ends: a start that fails part way closes what it had opened.
 * Register each resource right after it opens, inside the try whose finally calls closeAll.
 */
export class Closers {
  private readonly stack: (() => unknown)[] = [];

  /** close() runs at closeAll, before everything registered earlier. */
  add(close: () => unknown): void {
    this.stack.push(close);
  }

  /**
   * Runs every close, newest first, and waits for each. One that fails does not keep the others
   * open: it goes to onError (a close failure must not hide the error that ended the run).
   */
  async closeAll(onError: (err: unknown) => void): Promise<void> {
    for (let close = this.stack.pop(); close !== undefined; close = this.stack.pop()) {
      try {
        await close();
      } catch (err: unknown) {
        onError(err);
      }
    }
  }
}
