/**
 * Keeps one ValidatingAdmissionPolicy and binding per valid GuardPolicy (server-side apply, owned
 * by and annotated with the GuardPolicy), removes them when the policy goes or turns invalid
 * (the webhook ignores an invalid policy, and the two must agree), re-bakes the time every
 * BAKE_INTERVAL_MS, and reports on the GuardPolicy's status. Level-triggered on the policy name;
 * every replica runs it, and identical applies are no-ops.
 *
 * The compiled objects are left in place when the component stops: they are what keeps
 * enforcing while no webhook replica runs.
 */
import { errorMessage, isGuardError, ErrorCodes } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import type { KubeObject } from "../kube/objects.js";
import type { Clock } from "../runtime/clock.js";
import { runWorkers } from "../runtime/controller.js";
import { WorkQueue } from "../runtime/queue.js";
import { done, requeueAfter, type ReconcileResult } from "../runtime/result.js";
import type { Logger } from "../telemetry/log.js";
import { GUARD_POLICY, type ClusterView, type PolicyState } from "./cluster-view.js";
import type { AdmissionMetrics } from "./metrics.js";
import { nextStatus, readyCondition, type BackstopOutcome } from "./policy-status.js";
import {
  BACKSTOP_LABEL,
  POLICY_ANNOTATION,
  VAP_API_VERSION,
  backstopName,
  compileBackstop,
} from "./vap/compile.js";
import { BAKE_INTERVAL_MS } from "./vap/rules.js";

const KINDS = ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"] as const;
const RETRY_MS = 30_000;

export interface BackstopOptions {
  readonly kube: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly view: ClusterView;
  readonly metrics: AdmissionMetrics;
  readonly ownNamespace: string;
  /** Compile and apply ValidatingAdmissionPolicies (default); false only reports status. */
  readonly enabled: boolean;
  /** Narrows the bindings to these namespaces (tests). */
  readonly namespaces?: readonly string[];
}

export class BackstopController {
  private readonly options: BackstopOptions;
  private readonly queue: WorkQueue<string>;
  /** What this replica last applied per policy, so an unchanged policy costs no write. */
  private readonly applied = new Map<string, string>();

  constructor(options: BackstopOptions) {
    this.options = options;
    this.queue = new WorkQueue<string>({ clock: options.clock });
  }

  enqueue(name: string): void {
    if (name !== "") this.queue.add(name);
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener("abort", () => {
      this.queue.shutDown();
    });
    for (const name of this.options.view.policyNames()) this.enqueue(name);
    await this.sweep().catch((err: unknown) => {
      this.options.logger.warn({ err: errorMessage(err) }, "cannot look for orphaned backstops");
    });
    await runWorkers({
      queue: this.queue,
      reconcile: (name) => this.reconcile(name),
      signal,
      clock: this.options.clock,
      onResult: (name, outcome, _ms, err) => {
        if (err !== undefined)
          this.options.logger.warn({ policy: name, outcome, err: errorMessage(err) }, "backstop");
      },
    });
  }

  /** Compiled objects whose GuardPolicy is gone (deleted while no replica ran). */
  private async sweep(): Promise<void> {
    const { kube } = this.options;
    const type = { apiVersion: VAP_API_VERSION, kind: KINDS[0] };
    const { items } = await kube.list(type, { labelSelector: `${BACKSTOP_LABEL}=true` });
    for (const item of items) {
      const name = item.metadata.annotations?.[POLICY_ANNOTATION];
      if (name === undefined) continue;
      const policy = await kube.get({ ...GUARD_POLICY, name });
      if (policy === undefined) await this.remove(name);
    }
  }

  private async reconcile(name: string): Promise<ReconcileResult> {
    const state = this.options.view.policyState(name);
    if (state === undefined || state.policy === undefined) await this.remove(name);
    if (state === undefined) return done();
    const outcome = await this.outcomeFor(state);
    await this.writeStatus(state, outcome);
    if (outcome.kind === "failed") return requeueAfter(RETRY_MS);
    return state.policy === undefined ? done() : requeueAfter(BAKE_INTERVAL_MS);
  }

  private async outcomeFor(state: PolicyState): Promise<BackstopOutcome> {
    if (state.policy === undefined || !this.options.enabled) return { kind: "disabled" };
    const { kube, clock, ownNamespace, namespaces } = this.options;
    const policy = state.policy;
    const uid = state.object.metadata.uid;
    const compiled = compileBackstop(policy, {
      now: clock.now(),
      ownNamespace,
      gitSyncWriters: this.options.view.gitSyncWriters(),
      ...(uid === undefined ? {} : { ownerUid: uid }),
      ...(namespaces === undefined ? {} : { namespaces }),
    });
    const text = JSON.stringify(compiled);
    const name = backstopName(policy.name);
    if (this.applied.get(policy.name) === text) return { kind: "applied", name };
    try {
      // The policy first: a binding to a missing policy is an error in its status.
      await kube.apply(compiled.policy);
      await kube.apply(compiled.binding);
    } catch (err: unknown) {
      this.options.metrics.backstopApplies.inc({ outcome: "failed" });
      this.applied.delete(policy.name);
      return { kind: "failed", message: errorMessage(err) };
    }
    this.options.metrics.backstopApplies.inc({ outcome: "applied" });
    this.applied.set(policy.name, text);
    this.options.logger.info(
      { policy: policy.name, backstop: name },
      "ValidatingAdmissionPolicy applied",
    );
    return { kind: "applied", name };
  }

  private async writeStatus(state: PolicyState, outcome: BackstopOutcome): Promise<void> {
    const { object } = state;
    const ready = readyCondition(state.error?.message, outcome, object.metadata.generation);
    const status = nextStatus(object, ready, this.options.clock.now());
    if (status === undefined) return;
    try {
      await this.options.kube.patchStatus(
        { ...GUARD_POLICY, name: object.metadata.name ?? "" },
        status,
      );
    } catch (err: unknown) {
      // Deleted meanwhile: the delete event reconciles it again.
      if (!isGuardError(err, ErrorCodes.KUBE_NOT_FOUND)) throw err;
    }
  }

  /** Deletes the compiled objects of policy name, if they are ours. */
  private async remove(policyName: string): Promise<void> {
    this.applied.delete(policyName);
    for (const kind of [...KINDS].reverse()) {
      const ref = { apiVersion: VAP_API_VERSION, kind, name: backstopName(policyName) };
      const live: KubeObject | undefined = await this.options.kube.get(ref);
      if (live?.metadata.annotations?.[POLICY_ANNOTATION] !== policyName) continue;
      const uid = live.metadata.uid;
      await this.options.kube.delete(ref, uid === undefined ? {} : { uid });
      this.options.logger.info({ policy: policyName, kind }, "backstop removed");
    }
  }
}
