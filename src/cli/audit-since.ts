/**
 * `audit list --since`: a time (RFC 3339) or an age ("90s", "30m", "12h", "7d") before now, as
 * the journal's own time (UTC, milliseconds) so the server and the file compare them alike.
 */
import { ErrorCodes, GuardError } from "../errors.js";

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

export function sinceTime(text: string, nowMs: number): string {
  const age = /^(\d{1,7})([smhd])$/.exec(text.trim());
  if (age !== null) {
    const ms = Number(age[1]) * (UNIT_MS[age[2] ?? "s"] ?? 1000);
    return new Date(nowMs - ms).toISOString();
  }
  const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
  const at = rfc3339.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new GuardError(
      ErrorCodes.CONFIG_INVALID,
      `--since must be an RFC 3339 time (2026-12-06T09:00:00Z) or an age such as 30m, 12h or 7d, not ${JSON.stringify(text)}`,
    );
  }
  return new Date(at).toISOString();
}
