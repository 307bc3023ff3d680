import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "x-gitops-guard-signature";
export const TIMESTAMP_HEADER = "x-gitops-guard-timestamp";

/**
 * HMAC-SHA256 over "<unix seconds>.<body>", as "sha256=<hex>". The timestamp is signed so a
 * captured request cannot be replayed later with a fresh timestamp (receivers check its age).
 */
export function signPayload(body: string, key: string | Uint8Array, timestampSec: number): string {
  const mac = createHmac("sha256", key)
    .update(`${String(timestampSec)}.${body}`)
    .digest("hex");
  return `sha256=${mac}`;
}

/** What a receiver does: recompute, compare in constant time, and bound the timestamp's age. */
export function verifySignature(input: {
  readonly body: string;
  readonly key: string | Uint8Array;
  readonly signature: string;
  readonly timestampSec: number;
  readonly nowSec: number;
  readonly toleranceSec?: number;
}): boolean {
  if (Math.abs(input.nowSec - input.timestampSec) > (input.toleranceSec ?? 300)) return false;
  const want = Buffer.from(signPayload(input.body, input.key, input.timestampSec));
  const got = Buffer.from(input.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
