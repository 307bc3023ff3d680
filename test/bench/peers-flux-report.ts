// The table of peers-flux.bench.ts: each figure's median and range for both sides, the ratio
// with Flux's median as the baseline, and PASS/MISS computed from that ratio and the goal.
import type { RunFigures } from "./peers-flux-measure.js";
import { fmt, median } from "./stats.js";

/** Median and range of one figure over rounds. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function summary(values: readonly number[]): Summary {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** One figure per round (or per commit, per edit) for each side. */
export interface Paired<T> {
  readonly ours: T[];
  readonly flux: T[];
}

export interface Row {
  readonly label: string;
  /** How the figures (ms, or MB) are printed: "s" divides ms by 1,000. */
  readonly unit: "s" | "ms" | "MB";
  readonly ours: Summary;
  readonly flux: Summary;
  /** The largest ours/Flux ratio of the medians that meets the goal; none: no goal. */
  readonly maxRatio?: number;
}

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const range = (s: Summary, scale: number, digits: number): string =>
  `${fmt(s.median / scale, digits)} (${fmt(s.min / scale, digits)}-${fmt(s.max / scale, digits)})`;

/** Prints the table; true when every goal is met. */
export function printTable(rows: readonly Row[]): boolean {
  say("");
  say(
    `${"figure: median (range)".padEnd(46)} ${"gitops-guard".padStart(22)} ` +
      `${"Flux engine".padStart(22)} ${"ratio".padStart(7)}  goal          result`,
  );
  let allMet = true;
  for (const row of rows) {
    const ratio = row.ours.median / row.flux.median;
    const [scale, digits] = row.unit === "s" ? [1000, 2] : [1, 1];
    const goal = row.maxRatio === undefined ? "" : `ratio <= ${String(row.maxRatio)}`;
    const met = row.maxRatio === undefined ? undefined : ratio <= row.maxRatio;
    if (met === false) allMet = false;
    const result = met === undefined ? "" : met ? "PASS" : "MISS";
    say(
      `${`${row.label} (${row.unit})`.padEnd(46)} ${range(row.ours, scale, digits).padStart(22)} ` +
        `${range(row.flux, scale, digits).padStart(22)} ${fmt(ratio, 3).padStart(7)}  ` +
        `${goal.padEnd(13)} ${result}`,
    );
  }
  return allMet;
}

/** The rows of the one-commit part; label names the object count. */
export function scaleRows(label: string, scale: Paired<RunFigures>): Row[] {
  const pick = (key: keyof RunFigures): { ours: Summary; flux: Summary } => ({
    ours: summary(scale.ours.map((f) => f[key])),
    flux: summary(scale.flux.map((f) => f[key])),
  });
  return [
    { label: `${label}: trigger to applied`, unit: "s", ...pick("ms"), maxRatio: 0.5 },
    { label: `${label}: controller CPU`, unit: "s", ...pick("cpuMs"), maxRatio: 1 },
    { label: `${label}: kube-apiserver CPU`, unit: "s", ...pick("apiServerCpuMs") },
    { label: `${label}: controller peak RSS`, unit: "MB", ...pick("peakRssMb") },
  ];
}

export const paired = (p: Paired<number>): { ours: Summary; flux: Summary } => ({
  ours: summary(p.ours),
  flux: summary(p.flux),
});
