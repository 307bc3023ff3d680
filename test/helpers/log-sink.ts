import { Writable } from "node:stream";

export interface LogSink {
  readonly stream: Writable;
  /** Everything the logger wrote, as text. */
  raw(): string;
  /** Every JSON line the logger wrote, parsed. */
  lines(): Record<string, unknown>[];
}

/** A destination that keeps what pino wrote, so tests read the logger's real output. */
export function sink(): LogSink {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  const raw = (): string => chunks.join("");
  const lines = (): Record<string, unknown>[] =>
    raw()
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, raw, lines };
}
