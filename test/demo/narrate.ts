// How the demo talks: a numbered progress line per step, indented detail, and a summary table.
import { errorMessage } from "../../src/errors.js";

export interface Narrator {
  step(title: string): void;
  say(text: string): void;
  /** Records a step's outcome for the closing summary. */
  result(what: string, outcome: string): void;
  summary(): string;
}

export function narrator(total: number, write: (text: string) => void): Narrator {
  let n = 0;
  const results: { what: string; outcome: string }[] = [];
  return {
    step(title) {
      n += 1;
      write(`\n[${String(n)}/${String(total)}] ${title}\n`);
    },
    say(text) {
      write(`${indent(text)}\n`);
    },
    result(what, outcome) {
      results.push({ what, outcome });
    },
    summary() {
      const width = Math.max(...results.map((r) => r.what.length));
      return results.map((r) => `   ${r.what.padEnd(width)}  ${r.outcome}`).join("\n");
    },
  };
}

export function indent(text: string, by = "   "): string {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => `${by}${line}`)
    .join("\n");
}

/** Polls probe until it returns a value; a throwing probe counts as "not yet". */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 60_000,
): Promise<T> {
  const deadline = performance.now() + ms;
  let last = "";
  while (performance.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err: unknown) {
      last = errorMessage(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`demo: timed out waiting for ${what}${last === "" ? "" : ` (last: ${last})`}`);
}
