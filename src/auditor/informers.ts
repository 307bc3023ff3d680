/** The auditor's informers over the API server, and waiting on them without blocking stop. */
import type { ComponentContext } from "../component-context.js";
import { errorMessage } from "../errors.js";
import { Informer } from "../kube/informer.js";

export const GUARD_POLICY = { apiVersion: "gitops-guard.io/v1alpha1", kind: "GuardPolicy" };
export const GIT_SYNC = { apiVersion: "gitops-guard.io/v1alpha1", kind: "GitSync" };
export const EVENT = { apiVersion: "events.k8s.io/v1", kind: "Event" };
export const NAMESPACE = { apiVersion: "v1", kind: "Namespace" };

export function informerOf(
  ctx: ComponentContext,
  type: typeof EVENT,
  labelSelector?: string,
): Informer {
  return new Informer({
    client: ctx.kube,
    type,
    clock: ctx.clock,
    ...(labelSelector === undefined ? {} : { labelSelector }),
    onError: (err: unknown) => {
      ctx.metrics.informerRestarts.inc({ resource: type.kind });
      ctx.logger.warn({ err: errorMessage(err), kind: type.kind }, "informer restarting");
    },
  });
}

/** Waits for work, or for signal: a cache that never syncs (a CRD missing) must not block stop. */
export async function untilAborted(work: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort = (): void => undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
