/**
 * The self-managed TLS material and when to renew it. Renewal starts once a third of a
 * certificate's lifetime is left (months ahead with the defaults), so a replica that misses a
 * few checks still renews long before anything expires. A new CA is added in front of the old
 * one in the CA bundle, which keeps trusting the old one until it expires: replicas still
 * serving a certificate of the old CA are never cut off.
 */
import { certificateFacts, createCa, issueServing, splitPem, type PemPair } from "./issue.js";

export interface TlsBundle {
  /** PEM: the current CA first, then older CAs still valid. */
  readonly caBundle: string;
  /** The current CA's private key. */
  readonly caKey: string;
  /** The serving certificate and its key. */
  readonly cert: string;
  readonly key: string;
}

export interface RenewalPolicy {
  readonly caValidForMs: number;
  readonly servingValidForMs: number;
  /** Renew when less than this fraction of the lifetime is left. */
  readonly renewFraction: number;
}

const DAY_MS = 24 * 3_600_000;
export const DEFAULT_RENEWAL: RenewalPolicy = {
  caValidForMs: 5 * 365 * DAY_MS,
  servingValidForMs: 365 * DAY_MS,
  renewFraction: 1 / 3,
};

export const CA_COMMON_NAME = "gitops-guard webhook CA";

export interface BundlePlan {
  readonly bundle: TlsBundle;
  /** Why it changed; undefined when the current bundle is kept. */
  readonly change?: string;
}

function dueForRenewal(pem: string, now: number, fraction: number): boolean {
  const { notBefore, notAfter } = certificateFacts(pem);
  return now >= notAfter - (notAfter - notBefore) * fraction;
}

function readable(bundle: TlsBundle): boolean {
  try {
    const [ca] = splitPem(bundle.caBundle);
    return (
      ca !== undefined && bundle.caKey !== "" && certificateFacts(bundle.cert).hosts.length > 0
    );
  } catch {
    return false;
  }
}

function fresh(hosts: readonly string[], now: number, policy: RenewalPolicy): TlsBundle {
  const ca = createCa(CA_COMMON_NAME, { now, validForMs: policy.caValidForMs });
  const serving = issueServing(ca, hosts, { now, validForMs: policy.servingValidForMs });
  return { caBundle: ca.cert, caKey: ca.key, ...serving };
}

/** The CAs of bundle that are still valid at now, newest first, after `first`. */
function stillValid(caBundle: string, now: number): string[] {
  return splitPem(caBundle).filter((pem) => certificateFacts(pem).notAfter > now);
}

/** The bundle as it is, unless a CA in it expired. */
function withoutExpired(caBundle: string, now: number): string {
  const valid = stillValid(caBundle, now);
  return valid.length === splitPem(caBundle).length ? caBundle : joinPem(valid);
}

function joinPem(pems: readonly string[]): string {
  return `${pems.map((p) => p.trim()).join("\n")}\n`;
}

/**
 * What the bundle should be at now for hosts: the current one, a new serving certificate, a
 * new CA (and serving certificate), or an entirely new bundle.
 */
export function planBundle(
  current: TlsBundle | undefined,
  hosts: readonly string[],
  now: number,
  policy: RenewalPolicy = DEFAULT_RENEWAL,
): BundlePlan {
  if (current === undefined || !readable(current)) {
    const why =
      current === undefined ? "no certificate yet" : "the stored certificate is unreadable";
    return { bundle: fresh(hosts, now, policy), change: why };
  }
  const [caPem = ""] = splitPem(current.caBundle);
  if (dueForRenewal(caPem, now, policy.renewFraction)) {
    const ca = createCa(CA_COMMON_NAME, { now, validForMs: policy.caValidForMs });
    const serving = issueServing(ca, hosts, { now, validForMs: policy.servingValidForMs });
    const caBundle = joinPem([ca.cert, ...stillValid(current.caBundle, now)]);
    return { bundle: { caBundle, caKey: ca.key, ...serving }, change: "the CA is due for renewal" };
  }
  const covered = new Set(certificateFacts(current.cert).hosts);
  const missing = hosts.filter((h) => !covered.has(h));
  const due = dueForRenewal(current.cert, now, policy.renewFraction);
  if (!due && missing.length === 0) return { bundle: current };
  const ca: PemPair = { cert: caPem, key: current.caKey };
  const serving = issueServing(ca, hosts, { now, validForMs: policy.servingValidForMs });
  const change = due
    ? "the serving certificate is due for renewal"
    : `the serving certificate lacks ${missing.join(", ")}`;
  return {
    bundle: { ...current, caBundle: withoutExpired(current.caBundle, now), ...serving },
    change,
  };
}

/** The serving certificate's expiry (ms since the epoch), for the metric. */
export function servingExpiry(bundle: { readonly cert: string }): number {
  return certificateFacts(bundle.cert).notAfter;
}
