// Small statistics for benchmarks: medians and percentiles, since these machines are noisy.

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

/** Runs fn repeatedly (bounded by count and time) and returns each run's wall time in ms. */
export async function timeRuns(
  fn: () => unknown,
  opts: { runs: number; maxMs?: number },
): Promise<number[]> {
  const times: number[] = [];
  const deadline = performance.now() + (opts.maxMs ?? 60_000);
  for (let i = 0; i < opts.runs && performance.now() < deadline; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

export function fmt(n: number, digits = 1): string {
  return n.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

/** One line: the measured figure, the baseline, and their ratio. */
export function ratioLine(label: string, value: number, baseline: number, unit: string): string {
  return `${label.padEnd(46)} ${fmt(value).padStart(12)} ${unit.padEnd(10)} baseline ${fmt(baseline).padStart(12)} ${unit.padEnd(10)} ratio ${fmt(value / baseline, 2)}`;
}
