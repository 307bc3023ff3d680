/**
 * What the webhook knows of the cluster, kept by informers: the GuardPolicies (parsed once per
 * resourceVersion; invalid ones set aside with their error), namespace labels for
 * namespaceSelector, and the GitSync inventories for locate(). view() is what each admission
 * request reads: plain data, no I/O.
 */
import { ErrorCodes, GuardError, errorMessage, isGuardError } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import { Informer } from "../kube/informer.js";
import type { KubeObject } from "../kube/objects.js";
import type { Clock } from "../runtime/clock.js";
import type { Logger } from "../telemetry/log.js";
import type { Metrics } from "../telemetry/metrics.js";
import { buildWriterIndex, type GitSyncWriter, type WriterIndex } from "./gitsync-writers.js";
import { buildLocator, type Locate } from "./inventory-index.js";
import type { PolicyParser } from "./policy.js";
import type { GuardPolicy } from "./policy-types.js";
import type { AdmissionView } from "./router.js";

export const GUARD_POLICY = {
  apiVersion: "gitops-guard.io/v1alpha1",
  kind: "GuardPolicy",
} as const;
export const GIT_SYNC = { apiVersion: "gitops-guard.io/v1alpha1", kind: "GitSync" } as const;
const NAMESPACE = { apiVersion: "v1", kind: "Namespace" } as const;

/** One GuardPolicy as the API server has it, and what parsing made of it. */
export interface PolicyState {
  readonly object: KubeObject;
  readonly policy?: GuardPolicy;
  readonly error?: GuardError;
}

export interface ClusterViewOptions {
  readonly kube: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly parser: PolicyParser;
  readonly ownNamespace: string;
  /** Label selector on GuardPolicies (tests share one control plane). */
  readonly policySelector?: string;
  /** A GuardPolicy was added, changed or deleted (its name). */
  readonly onPolicy?: (name: string) => void;
  readonly onPolicyCount?: (valid: number, invalid: number) => void;
  /** The controller's --default-service-account (GitSyncs without their own act as it). */
  readonly defaultServiceAccount?: string | undefined;
  /** The bundled reconciler's username (DecideContext.reconcilerUsername). */
  readonly reconcilerUsername?: string;
  /** The set of GitSync identities and their namespaces changed (the backstop lists them). */
  readonly onWriters?: () => void;
}

export class ClusterView {
  private readonly options: ClusterViewOptions;
  private readonly policies: Informer;
  private readonly namespaces: Informer;
  private readonly gitSyncs: Informer;
  private readonly states = new Map<string, PolicyState>();
  private valid: readonly GuardPolicy[] = [];
  private locate: Locate = () => undefined;
  private writerIndex: WriterIndex = buildWriterIndex([], { controllerNamespace: "" });
  private writersText = "[]";

  constructor(options: ClusterViewOptions) {
    this.options = options;
    const informer = (
      type: { apiVersion: string; kind: string },
      labelSelector?: string,
    ): Informer =>
      new Informer({
        client: options.kube,
        type,
        clock: options.clock,
        ...(labelSelector === undefined ? {} : { labelSelector }),
        onError: (err, attempt) => {
          options.metrics.informerRestarts.inc({ resource: type.kind });
          options.logger.warn(
            { err: errorMessage(err), attempt, kind: type.kind },
            "informer error",
          );
        },
      });
    this.policies = informer(GUARD_POLICY, options.policySelector);
    this.namespaces = informer(NAMESPACE);
    this.gitSyncs = informer(GIT_SYNC);
  }

  start(): void {
    const onPolicy = (obj: KubeObject): void => {
      this.parse(obj);
    };
    this.policies.on("add", onPolicy);
    this.policies.on("update", onPolicy);
    this.policies.on("delete", (obj) => {
      this.forget(obj.metadata.name ?? "");
    });
    const reindex = (): void => {
      const gitSyncs = this.gitSyncs.list();
      this.locate = buildLocator(gitSyncs);
      this.writerIndex = buildWriterIndex(gitSyncs, {
        defaultServiceAccount: this.options.defaultServiceAccount,
        controllerNamespace: this.options.ownNamespace,
      });
      const text = JSON.stringify(this.writerIndex.writers());
      if (text === this.writersText) return;
      this.writersText = text;
      this.options.onWriters?.();
    };
    for (const event of ["add", "update", "delete"] as const) this.gitSyncs.on(event, reindex);
    for (const informer of [this.policies, this.namespaces, this.gitSyncs]) informer.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.policies.stop(), this.namespaces.stop(), this.gitSyncs.stop()]);
  }

  synced(): boolean {
    return this.policies.synced() && this.namespaces.synced() && this.gitSyncs.synced();
  }

  async waitForSync(): Promise<void> {
    await Promise.all([
      this.policies.waitForSync(),
      this.namespaces.waitForSync(),
      this.gitSyncs.waitForSync(),
    ]);
  }

  view(): AdmissionView {
    return {
      policies: this.valid,
      context: {
        locate: (ref) => this.locate(ref),
        gitSyncWriter: (username, ref, labels) => this.writerIndex.writerFor(username, ref, labels),
        namespaceLabels: (ns) => this.namespaces.get(ns)?.metadata.labels,
        ownNamespace: this.options.ownNamespace,
        ...(this.options.reconcilerUsername === undefined
          ? {}
          : { reconcilerUsername: this.options.reconcilerUsername }),
      },
    };
  }

  /** Every GitSync identity with its namespace (for the CEL backstop). */
  gitSyncWriters(): readonly GitSyncWriter[] {
    return this.writerIndex.writers();
  }

  policyState(name: string): PolicyState | undefined {
    return this.states.get(name);
  }

  policyNames(): string[] {
    return [...this.states.keys()];
  }

  private parse(object: KubeObject): void {
    const name = object.metadata.name ?? "";
    const previous = this.states.get(name);
    if (previous?.object.metadata.resourceVersion === object.metadata.resourceVersion) return;
    let state: PolicyState;
    try {
      state = { object, policy: this.options.parser.parse(object) };
    } catch (err: unknown) {
      const error = isGuardError(err)
        ? err
        : new GuardError(ErrorCodes.POLICY_INVALID, errorMessage(err), { cause: err });
      state = { object, error };
      // Ignored, not fatal: the other policies stay in force.
      this.options.logger.error(
        { policy: name, code: ErrorCodes.POLICY_INVALID, err: errorMessage(err) },
        "GuardPolicy is invalid and ignored",
      );
    }
    this.states.set(name, state);
    this.refresh(name);
  }

  private forget(name: string): void {
    this.states.delete(name);
    this.refresh(name);
  }

  private refresh(name: string): void {
    const all = [...this.states.values()];
    this.valid = all.flatMap((s) => (s.policy === undefined ? [] : [s.policy]));
    this.options.onPolicyCount?.(this.valid.length, all.length - this.valid.length);
    this.options.onPolicy?.(name);
  }
}
