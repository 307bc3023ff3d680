/**
 * Merging a chart's values as helm does: later sources win, maps merge deeply, anything else
 * (lists included) is replaced whole. A null is kept: helm then drops the chart's default.
 */
import { createHash } from "node:crypto";

type Values = Record<string, unknown>;

function isMap(value: unknown): value is Values {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function mergeInto(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    if (isMap(current) && isMap(value)) out[key] = mergeInto(current, value);
    else out[key] = value;
  }
  return out;
}

/** The sources merged in order (the chart's defaults are helm's own, under all of them). */
export function mergeValues(layers: readonly Values[]): Values {
  return layers.reduce<Values>((merged, layer) => mergeInto(merged, layer), {});
}

/** Keys sorted at every level, so equal values give equal text and digest. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (!isMap(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, canonical(value[k])]),
  );
}

/** sha256 of the merged values: what status and the journal show instead of the values. */
export function valuesDigest(values: Values): string {
  const text = JSON.stringify(canonical(values));
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

export function asValuesMap(value: unknown): Values | undefined {
  if (value === null || value === undefined) return {};
  return isMap(value) ? value : undefined;
}
