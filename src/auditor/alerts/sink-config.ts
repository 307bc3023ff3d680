import type { KubeClient } from "../../kube/client.js";
import type { KubeObject } from "../../kube/objects.js";
import type { Clock } from "../../runtime/clock.js";
import { compact } from "../compact.js";
import type { AlertSinkSpec } from "../scope.js";
import { createSink, type AlertSink, type SinkSettings } from "./sinks.js";

/** The Secret keys read when a secretRef names no key. */
export const DEFAULT_SECRET_KEYS = {
  slack: "url",
  alertmanager: "url",
  webhook: "hmac-key",
} as const;

interface Source {
  readonly kube: KubeClient;
  readonly namespace: string;
  readonly clock: Clock;
}

async function secretValue(
  source: Source,
  ref: NonNullable<AlertSinkSpec["secretRef"]>,
  fallbackKey: string,
): Promise<string | undefined> {
  const secret = await source.kube.get<KubeObject>({
    apiVersion: "v1",
    kind: "Secret",
    namespace: source.namespace,
    name: ref.name,
  });
  const data = (secret?.["data"] ?? {}) as Record<string, unknown>;
  const value = data[ref.key ?? fallbackKey];
  return typeof value === "string" ? Buffer.from(value, "base64").toString("utf8") : undefined;
}

/** A sink's settings, or why it cannot be built. */
async function settingsOf(source: Source, spec: AlertSinkSpec): Promise<SinkSettings | string> {
  const fromSecret =
    spec.secretRef === undefined
      ? undefined
      : await secretValue(source, spec.secretRef, DEFAULT_SECRET_KEYS[spec.type]);
  const url = spec.type === "webhook" ? spec.url : (fromSecret ?? spec.url);
  const hmacKey = spec.type === "webhook" ? fromSecret : undefined;
  if (url === undefined) return "no url (spec.url or the Secret's key)";
  if (spec.type === "webhook" && hmacKey === undefined)
    return "a webhook sink needs an HMAC key in its secretRef";
  return compact({
    type: spec.type,
    id: `${spec.id}:${spec.type}`,
    url,
    hmacKey,
    clock: source.clock,
  });
}

/**
 * The sinks of the policies' spec.alerts. A Slack URL (itself a credential) and a webhook's
 * HMAC key come from a Secret in the product's namespace; a sink whose settings are incomplete
 * is skipped and reported by id only.
 */
export async function resolveSinks(
  input: Source & {
    readonly specs: readonly AlertSinkSpec[];
    readonly onSkipped?: (id: string, why: string) => void;
  },
): Promise<AlertSink[]> {
  const sinks: AlertSink[] = [];
  for (const spec of input.specs) {
    const settings = await settingsOf(input, spec);
    if (typeof settings === "string") input.onSkipped?.(spec.id, settings);
    else sinks.push(createSink(settings));
  }
  return sinks;
}
