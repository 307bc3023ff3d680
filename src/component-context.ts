import type { Config } from "./config.js";
import type { KubeClient } from "./kube/client.js";
import type { Clock } from "./runtime/clock.js";
import type { Component } from "./runtime/component.js";
import type { Logger } from "./telemetry/log.js";
import type { Metrics } from "./telemetry/metrics.js";

/**
 * What main.ts hands each component's factory: the shared services, and a Kubernetes client
 * that acts as the component's own identity (its service account, impersonated out of a cluster).
 */
export interface ComponentContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly kube: KubeClient;
}

export type ComponentFactory = (ctx: ComponentContext) => Component;
