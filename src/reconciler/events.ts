import { EventRecorder } from "../kube/events.js";
import type { KubeClient } from "../kube/client.js";
import type { Clock } from "../runtime/clock.js";
import type { Logger } from "../telemetry/log.js";

export type { EventRecorder } from "../kube/events.js";

/** Events on GitSyncs (`kubectl describe gitsync`), as the reconciler. */
export function gitSyncEvents(deps: {
  kube: KubeClient;
  clock: Clock;
  logger: Logger;
}): EventRecorder {
  return new EventRecorder({
    ...deps,
    source: {
      component: "gitops-guard-reconciler",
      reportingComponent: "gitops-guard.io/reconciler",
      logField: "gitSync",
    },
  });
}
