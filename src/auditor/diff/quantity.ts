// Kubernetes canonicalises resource quantities on write ("0.5" becomes "500m", 1 becomes "1"),
// so a value read back can differ in spelling from Git while meaning the same amount.
const SUFFIXES: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY =
  /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** The amount a quantity stands for, or undefined when the text is not a quantity. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string") return undefined;
  const match = QUANTITY.exec(value);
  if (match === null) return undefined;
  const factor = SUFFIXES[match[2] ?? ""];
  return factor === undefined ? undefined : Number(match[1]) * factor;
}

/** Scalars equal as Kubernetes reads them: same value, or the same quantity spelled otherwise. */
export function sameScalar(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "object" || typeof b === "object") return false;
  const qa = parseQuantity(a);
  const qb = parseQuantity(b);
  if (qa === undefined || qb === undefined) return false;
  return Math.abs(qa - qb) <= Math.abs(qa) * 1e-12;
}
