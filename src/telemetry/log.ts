/**
 * The logger factory. There is no global logger: main.ts creates the root logger and each
 * component takes `logger.child({ component })`, which inherits the redaction below.
 */
import { pino, stdTimeFunctions, type DestinationStream, type LevelWithSilent } from "pino";

export type Logger = pino.Logger;

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  /** Where JSON lines go; stdout when absent. Tests pass a stream and parse what was written. */
  readonly destination?: DestinationStream;
  readonly name?: string;
}

export const REDACT_CENSOR = "[REDACTED]";

// Secret-bearing keys of Kubernetes objects: Secret data/stringData and SealedSecret
// encryptedData. They are redacted wherever an object is logged, up to four keys deep, so
// a Secret under `obj`, `object`, `secret`, `oldObject`, `request.object`,
// `review.request.object` or in a list's `items` never shows its values. Non-secret objects
// with a `data` key (ConfigMaps) lose it too; that is the price of never leaking a Secret.
const SECRET_KEYS = ["data", "stringData", "encryptedData"] as const;

// Credentials that may appear in requests, kubeconfigs, alert sinks and Git settings.
const CREDENTIAL_KEYS = [
  "token",
  "bearerToken",
  "password",
  "privateKey",
  "clientKey",
  "clientKeyData",
  "secretAccessKey",
  "sessionToken",
  "apiKey",
  "hmacKey",
  "ageKey",
] as const;

/** key, *.key, *.*.key ... down to `depth` wildcards. */
function atDepths(key: string, depth: number): string[] {
  return Array.from({ length: depth + 1 }, (_, n) => `${"*.".repeat(n)}${key}`);
}

/** Every path the logger redacts, in @pinojs/redact (fast-redact) syntax. */
export function redactPaths(): string[] {
  return [
    // Depth 4 reaches review.request.object.spec.encryptedData of a SealedSecret.
    ...SECRET_KEYS.flatMap((key) => atDepths(key, 4)),
    // Lists: { items: [secret] }, { secrets: [secret] }, { list: { items: [secret] } }.
    ...SECRET_KEYS.flatMap((key) => [`*[*].${key}`, `*.*[*].${key}`]),
    ...CREDENTIAL_KEYS.flatMap((key) => atDepths(key, 3)),
    "req.headers.authorization",
    "req.headers.cookie",
    "*.headers.authorization",
    "*.headers.cookie",
    "headers.authorization",
    "headers.cookie",
  ];
}

/** The root logger: JSON lines with ISO times and level names, secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  const pinoOptions: pino.LoggerOptions = {
    level: options.level,
    timestamp: stdTimeFunctions.isoTime,
    // Level names ("info") rather than numbers read better in kubectl logs and log stores.
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: redactPaths(), censor: REDACT_CENSOR },
    ...(options.name === undefined ? {} : { name: options.name }),
  };
  return options.destination === undefined
    ? pino(pinoOptions)
    : pino(pinoOptions, options.destination);
}
