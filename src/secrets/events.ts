/**
 * Events on SealedSecrets (`kubectl describe sealedsecret`) and on new key Secrets. Messages
 * hold names, fingerprints and the sealing library's explanations, never a value. The Unsealed
 * and KeyGenerated Events follow kube/event-contract.ts: the auditor journals them as
 * secret-materialised and key-rotated.
 */
import { FIELD_MANAGER, type KubeClient } from "../kube/client.js";
import {
  EVENT_REPORTERS,
  GUARD_EVENT_LABELS,
  SECRETS_EVENT_ANNOTATIONS,
  SECRETS_EVENT_REASONS,
} from "../kube/event-contract.js";
import { EventRecorder, type EventNote } from "../kube/events.js";
import type { KubeObject } from "../kube/objects.js";
import type { Clock } from "../runtime/clock.js";
import { rfc3339 } from "../runtime/conditions.js";
import type { Logger } from "../telemetry/log.js";
import { EVENT_SOURCE } from "./names.js";

export type { EventRecorder } from "../kube/events.js";

interface RecorderDeps {
  kube: KubeClient;
  clock: Clock;
  logger: Logger;
}

function recorder(deps: RecorderDeps, logField: string): EventRecorder {
  return new EventRecorder({
    kube: deps.kube,
    clock: deps.clock,
    logger: deps.logger,
    labels: GUARD_EVENT_LABELS,
    source: { component: EVENT_SOURCE, reportingComponent: EVENT_REPORTERS.secrets, logField },
  });
}

export function sealedSecretEvents(deps: RecorderDeps): EventRecorder {
  return recorder(deps, "sealedSecret");
}

/** Events on key Secrets (KeyGenerated). */
export function keySecretEvents(deps: RecorderDeps): EventRecorder {
  return recorder(deps, "keySecret");
}

export interface UnsealedFacts {
  /** "namespace/name" of the SealedSecret and of its Secret. */
  readonly key: string;
  readonly created: boolean;
  /** The Secret as the API server returned it after the write (uid, resourceVersion). */
  readonly secret: KubeObject;
  /** Fingerprints of the keys that opened the items. */
  readonly keys: ReadonlySet<string>;
}

/** The Normal Event of a Secret written from a SealedSecret. */
export function unsealedNote(facts: UnsealedFacts): EventNote {
  const a = SECRETS_EVENT_ANNOTATIONS;
  const keys = [...facts.keys].sort();
  const { metadata } = facts.secret;
  const verb = facts.created ? "unsealed into" : "restored or updated";
  const opened = keys.length === 0 ? "" : ` (opened with key ${keys.join(", ")})`;
  return {
    type: "Normal",
    reason: SECRETS_EVENT_REASONS.unsealed,
    message: `SealedSecret ${verb} Secret ${facts.key}${opened}`,
    annotations: {
      [a.write]: facts.created ? "created" : "updated",
      [a.keys]: JSON.stringify(keys),
      [a.fieldManager]: `${FIELD_MANAGER} (Apply)`,
    },
    related: {
      apiVersion: "v1",
      kind: "Secret",
      name: metadata.name ?? "",
      ...(metadata.namespace === undefined ? {} : { namespace: metadata.namespace }),
      ...(metadata.uid === undefined ? {} : { uid: metadata.uid }),
      ...(metadata.resourceVersion === undefined
        ? {}
        : { resourceVersion: metadata.resourceVersion }),
    },
  };
}

export type KeyTrigger = "initial" | "renewal" | "on-demand";

export interface KeyFacts {
  readonly fingerprint: string;
  /** The certificate's validity, ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly trigger: KeyTrigger;
}

/** The Normal Event of a new sealing key, on its key Secret: the public facts only. */
export function keyGeneratedNote(facts: KeyFacts): EventNote {
  const a = SECRETS_EVENT_ANNOTATIONS;
  const from = rfc3339(facts.notBefore);
  const to = rfc3339(facts.notAfter);
  return {
    type: "Normal",
    reason: SECRETS_EVENT_REASONS.keyGenerated,
    message: `New sealing key ${facts.fingerprint} (${facts.trigger}), certificate valid from ${from} to ${to}`,
    annotations: {
      [a.fingerprint]: facts.fingerprint,
      [a.notBefore]: from,
      [a.notAfter]: to,
      [a.trigger]: facts.trigger,
    },
  };
}
