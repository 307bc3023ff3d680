/**
 * Who sent a push, and whether to believe it. Pure: headers, the raw body and the shared
 * secrets in, a verdict out. GitHub signs the body with HMAC-SHA256 (X-Hub-Signature-256),
 * GitLab sends the secret token itself (X-Gitlab-Token), and anything else may sign the body as
 * Flux's generic-hmac receivers do (X-Signature: sha256=<hex> or sha512=<hex>). Comparisons are
 * constant-time; a missing secret for the sender's kind refuses the push.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export type PushProvider = "github" | "gitlab" | "generic";

export interface PushSecrets {
  readonly github?: string;
  readonly gitlab?: string;
  readonly generic?: string;
}

export type Headers = Readonly<Record<string, string | undefined>>;

export type Verdict =
  | { readonly ok: true; readonly provider: PushProvider; readonly event: string }
  | { readonly ok: false; readonly provider: PushProvider; readonly reason: string };

export function providerOf(headers: Headers): PushProvider {
  if (headers["x-github-event"] !== undefined) return "github";
  if (headers["x-gitlab-event"] !== undefined) return "gitlab";
  return "generic";
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function hmacMatches(algorithm: string, secret: string, body: Buffer, hex: string): boolean {
  if (!/^[0-9a-f]+$/i.test(hex)) return false;
  const want = createHmac(algorithm, secret).update(body).digest();
  return sameBytes(want, Buffer.from(hex, "hex"));
}

/** "sha256=<hex>" checked against the body; only SHA-256 and SHA-512 (SHA-1 is refused). */
function signedBody(header: string | undefined, secret: string, body: Buffer): string | undefined {
  if (header === undefined) return "it carries no signature";
  const [algorithm, hex] = header.split("=", 2);
  if (algorithm !== "sha256" && algorithm !== "sha512") {
    return `its signature uses ${algorithm ?? "no algorithm"}: only sha256= and sha512= are accepted`;
  }
  return hmacMatches(algorithm, secret, body, hex ?? "")
    ? undefined
    : "its signature does not match";
}

function check(
  provider: PushProvider,
  headers: Headers,
  body: Buffer,
  secret: string,
): string | undefined {
  switch (provider) {
    case "github":
      return signedBody(headers["x-hub-signature-256"], secret, body);
    case "gitlab": {
      const token = headers["x-gitlab-token"];
      if (token === undefined) return "it carries no X-Gitlab-Token";
      return sameBytes(Buffer.from(token), Buffer.from(secret))
        ? undefined
        : "its token does not match";
    }
    case "generic":
      return signedBody(headers["x-signature"], secret, body);
  }
}

const SIGNATURE_HEADER: Record<PushProvider, string> = {
  github: "X-Hub-Signature-256",
  gitlab: "X-Gitlab-Token",
  generic: "X-Signature",
};

export function verifyPush(headers: Headers, body: Buffer, secrets: PushSecrets): Verdict {
  const provider = providerOf(headers);
  const secret = secrets[provider];
  if (secret === undefined || secret === "") {
    return { ok: false, provider, reason: `no ${provider} secret is configured for pushes` };
  }
  const why = check(provider, headers, body, secret);
  if (why !== undefined) {
    return { ok: false, provider, reason: `${why} (${SIGNATURE_HEADER[provider]})` };
  }
  const event = headers["x-github-event"] ?? headers["x-gitlab-event"] ?? "push";
  return { ok: true, provider, event };
}
