/** Go-style durations ("1m30s", "500ms", "1.5h") as the GitSync CRD accepts them. Pure. */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART_SOURCE = "([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h)";

/** Milliseconds, or undefined when text is not a duration of that form. */
export function parseDuration(text: string): number | undefined {
  if (text === "") return undefined;
  // A fresh sticky regex per call: its lastIndex is state that must not be shared.
  const part = new RegExp(PART_SOURCE, "y");
  let total = 0;
  while (part.lastIndex < text.length) {
    const match = part.exec(text);
    if (match === null) return undefined;
    const [, amount, unit] = match;
    total += Number(amount) * (UNIT_MS[unit ?? ""] ?? Number.NaN);
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}
