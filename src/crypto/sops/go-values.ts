/**
 * The text forms sops (a Go program) gives typed values, because the MAC hashes exactly those
 * bytes: strconv.FormatFloat(v, 'f', -1, 64), strconv.Itoa, "True"/"False", and
 * time.Time.MarshalText. Parsers here accept what the matching Go parsers accept for the
 * values sops writes, and return undefined where Go would fail.
 */

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.Atoi on 64-bit Go: optional sign, decimal digits, within int64. */
export function parseGoInt(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

export function fitsInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

const DECIMAL_FLOAT = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const INFINITY = /^[+-]?inf(?:inity)?$/i;

/** strconv.ParseFloat(text, 64) for decimal text, infinities and NaN; out of range is a failure. */
export function parseGoFloat(text: string): number | undefined {
  if (INFINITY.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!DECIMAL_FLOAT.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** strconv.FormatFloat(value, 'f', -1, 64): shortest round-trip digits, never an exponent. */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  const sign = value < 0 || Object.is(value, -0) ? "-" : "";
  return sign + expandExponent(String(Math.abs(value)));
}

/** strconv.FormatFloat(value, 'G', -1, 64): exponent form below 1e-4 and from 1e6 on. */
export function formatGoFloatG(value: number): string {
  const [mantissa = "", exponent = "0"] = Math.abs(value).toExponential().split("e");
  const power = Number(exponent);
  const plain = !Number.isFinite(value) || value === 0 || (power >= -4 && power < 6);
  if (plain) return formatGoFloat(value);
  const digits = String(Math.abs(power)).padStart(2, "0");
  return `${value < 0 ? "-" : ""}${mantissa}E${power < 0 ? "-" : "+"}${digits}`;
}

/** Rewrites JS exponent notation ("1.5e+21", "1e-7") as plain decimal digits. */
function expandExponent(text: string): string {
  const match = /^([0-9])(?:\.([0-9]+))?e([+-][0-9]+)$/.exec(text);
  if (match === null) return text;
  const digits = (match[1] ?? "") + (match[2] ?? "");
  const point = 1 + Number(match[3]);
  if (point <= 0) return `0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + "0".repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

const GO_BOOLS: ReadonlyMap<string, boolean> = new Map([
  ...["1", "t", "T", "TRUE", "true", "True"].map((s) => [s, true] as const),
  ...["0", "f", "F", "FALSE", "false", "False"].map((s) => [s, false] as const),
]);

/** strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  return GO_BOOLS.get(text);
}

/** The Python-era spelling sops hashes and encrypts booleans with. */
export function formatGoBool(value: boolean): string {
  return value ? "True" : "False";
}

interface TimeFields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** Fraction digits as written, without the separator. */
  readonly fraction: string;
  /** "Z", "+hh:mm", "-hh:mm", or "" for none (UTC). */
  readonly zone: string;
}

const STRICT_RFC3339 =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})$/;

// The layouts go-yaml v3 tries for an unquoted scalar (resolve.go allowedTimestampFormats).
const YAML_TIMESTAMPS = [
  /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})[Tt]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})$/,
  /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2}) ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]+))?()$/,
  /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})()()()()()$/,
];

function fieldsOf(match: RegExpExecArray): TimeFields {
  const num = (i: number): number => Number(match[i] === "" ? "0" : (match[i] ?? "0"));
  return {
    year: num(1),
    month: num(2),
    day: num(3),
    hour: num(4),
    minute: num(5),
    second: num(6),
    fraction: match[7] ?? "",
    zone: match[8] ?? "",
  };
}

function daysIn(month: number, year: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function zoneValid(zone: string): boolean {
  const match = /^[+-]([0-9]{2}):([0-9]{2})$/.exec(zone);
  return match === null || (Number(match[1]) <= 23 && Number(match[2]) <= 59);
}

function valid(t: TimeFields): boolean {
  const dateOk = t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= daysIn(t.month, t.year);
  return dateOk && t.hour <= 23 && t.minute <= 59 && t.second <= 59 && zoneValid(t.zone);
}

const pad = (value: number, width: number): string => String(value).padStart(width, "0");

function format(t: TimeFields, withFraction: boolean): string {
  const date = `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}`;
  const clock = `${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}`;
  // Go keeps nanoseconds (9 digits) and prints them without trailing zeros.
  const nanos = t.fraction.slice(0, 9).replace(/0+$/, "");
  const fraction = withFraction && nanos !== "" ? `.${nanos}` : "";
  const zero = t.zone === "" || t.zone === "Z" || /^[+-]00:00$/.test(t.zone);
  return `${date}T${clock}${fraction}${zero ? "Z" : t.zone}`;
}

function parseWith(patterns: readonly RegExp[], text: string): TimeFields | undefined {
  for (const pattern of patterns) {
    const match = pattern.exec(text);
    if (match === null) continue;
    const fields = fieldsOf(match);
    if (valid(fields)) return fields;
  }
  return undefined;
}

/** time.Time.UnmarshalText then MarshalText: the bytes sops hashes for a `type:time` value. */
export function normalizeGoTime(text: string): string | undefined {
  const fields = parseWith([STRICT_RFC3339], text);
  return fields === undefined ? undefined : format(fields, true);
}

/** time.Parse(RFC3339) then Format(RFC3339): how sops turns `lastmodified` into the MAC's AAD. */
export function formatGoTimeSeconds(text: string): string | undefined {
  const fields = parseWith([STRICT_RFC3339], text);
  return fields === undefined ? undefined : format(fields, false);
}

/** go-yaml v3's reading of an unquoted scalar as a timestamp, as MarshalText prints it. */
export function parseYamlTimestamp(text: string): string | undefined {
  if (!/^[0-9]{4}-/.test(text)) return undefined;
  const fields = parseWith(YAML_TIMESTAMPS, text);
  return fields === undefined ? undefined : format(fields, true);
}
