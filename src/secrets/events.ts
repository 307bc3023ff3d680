/**
 * Events on SealedSecrets (`kubectl describe sealedsecret`). Messages hold names and the
 * sealing library's explanations, never a value.
 */
import { EventRecorder } from "../kube/events.js";
import type { KubeClient } from "../kube/client.js";
import type { Clock } from "../runtime/clock.js";
import type { Logger } from "../telemetry/log.js";
import { EVENT_SOURCE } from "./names.js";

export type { EventRecorder } from "../kube/events.js";

export function sealedSecretEvents(deps: {
  kube: KubeClient;
  clock: Clock;
  logger: Logger;
}): EventRecorder {
  return new EventRecorder({
    ...deps,
    source: {
      component: EVENT_SOURCE,
      reportingComponent: "gitops-guard.io/secrets",
      logField: "sealedSecret",
    },
  });
}
