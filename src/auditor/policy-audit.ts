import type { KubeObject } from "../kube/objects.js";
import type { Clock } from "../runtime/clock.js";
import { done, requeueAfter, type ReconcileResult } from "../runtime/result.js";
import { attribute, type Attribution } from "./attribution/attribute.js";
import type { AuditFact } from "./attribution/facts.js";
import type { FactIndex } from "./attribution/index.js";
import { changedManagers } from "./attribution/managed-fields.js";
import { fieldDiff } from "./diff/diff.js";
import { WHOLE_OBJECT_REMOVED } from "./drift-tracker.js";
import { secretValueDigest, type FieldChange, type JournalRecord } from "./journal/record.js";
import { journalObject, type DriftRecorder } from "./recorder.js";

/** Work-queue keys of GuardPolicies: "policy|name" (objects' keys hold a "group/Kind" first). */
export const POLICY_KEY_PREFIX = "policy|";

export function policyKey(name: string): string {
  return `${POLICY_KEY_PREFIX}${name}`;
}

const POLICY_REF = { group: "gitops-guard.io", kind: "GuardPolicy", resource: "guardpolicies" };

export type PolicyChange = "created" | "changed" | "deleted";

export interface PolicyAuditDeps {
  readonly clock: Clock;
  readonly recorder: DriftRecorder;
  readonly audit: FactIndex<AuditFact>;
  /** How long an unattributed change waits for its audit event. */
  readonly graceMs: number;
  /** The GuardPolicy informer's cached state of a policy. */
  readonly get: (name: string) => KubeObject | undefined;
}

interface Known {
  readonly object: KubeObject;
  readonly seenMs: number;
}

/** What happened between the journaled state and the current one; undefined: nothing to record. */
export function policyChangeOf(
  before: KubeObject | undefined,
  after: KubeObject | undefined,
): PolicyChange | undefined {
  if (after === undefined) return before === undefined ? undefined : "deleted";
  if (before === undefined || before.metadata.uid !== after.metadata.uid) return "created";
  // Only spec changes move generation: status and metadata writes are not policy changes.
  return before.metadata.generation === after.metadata.generation ? undefined : "changed";
}

/**
 * A policy as the journal may show it: a Slack incoming-webhook URL is a credential, so sink
 * URLs appear only as digests (a change still shows, its value never).
 */
function redacted(policy: KubeObject): KubeObject {
  const copy = structuredClone(policy);
  const spec = copy["spec"] as { alerts?: unknown } | undefined;
  if (!Array.isArray(spec?.alerts)) return copy;
  for (const sink of spec.alerts as unknown[]) {
    if (typeof sink !== "object" || sink === null) continue;
    const s = sink as Record<string, unknown>;
    if (typeof s["url"] === "string") s["url"] = secretValueDigest(s["url"]);
  }
  return copy;
}

/** A policy change's field diff: from the previous state, or from nothing when created. */
export function policyDiff(
  before: KubeObject | undefined,
  after: KubeObject | undefined,
): FieldChange[] {
  if (after === undefined) return [WHOLE_OBJECT_REMOVED];
  const { name } = after.metadata;
  const created = before === undefined || before.metadata.uid !== after.metadata.uid;
  const from = created
    ? {
        apiVersion: after.apiVersion,
        kind: after.kind,
        metadata: name === undefined ? {} : { name },
      }
    : before;
  return fieldDiff(redacted(from), redacted(after));
}

function messageOf(
  name: string,
  change: PolicyChange,
  policy: KubeObject,
  who: Attribution,
): string {
  const generation = policy.metadata.generation;
  const at =
    change === "deleted" || generation === undefined ? "" : ` (generation ${String(generation)})`;
  const by =
    who.user === undefined
      ? "an unknown user (unattributed)"
      : `${who.user.username} (from ${who.source})`;
  return `GuardPolicy ${name} ${change}${at} by ${by}`;
}

/**
 * policy-changed records: GuardPolicies created, changed (generation) or deleted, with who did
 * it where the audit webhook can tell and the field managers that wrote. The policies present
 * when the auditor starts are its baseline; like drift, an unattributed change waits graceMs
 * for its audit event.
 */
export class PolicyAudit {
  private readonly deps: PolicyAuditDeps;
  private readonly known = new Map<string, Known>();
  private readonly waiting = new Map<string, number>();

  constructor(deps: PolicyAuditDeps) {
    this.deps = deps;
  }

  /** The policies the auditor finds at start: the baseline, not changes. */
  seed(policies: readonly KubeObject[]): void {
    const now = this.deps.clock.now();
    for (const policy of policies) {
      this.known.set(policy.metadata.name ?? "", { object: policy, seenMs: now });
    }
  }

  reconcile(name: string): ReconcileResult {
    const now = this.deps.clock.now();
    const current = this.deps.get(name);
    const known = this.known.get(name);
    const change = policyChangeOf(known?.object, current);
    if (change === undefined) {
      if (current !== undefined) this.known.set(name, { object: current, seenMs: now });
      this.waiting.delete(name);
      return done();
    }
    const who = this.attributionOf(name, known, current);
    if (who.user === undefined) {
      const since = this.waiting.get(name) ?? now;
      this.waiting.set(name, since);
      const waited = now - since;
      if (waited < this.deps.graceMs)
        return requeueAfter(Math.min(250, this.deps.graceMs - waited));
    }
    this.waiting.delete(name);
    this.record({ name, change, before: known?.object, after: current, who });
    if (current === undefined) this.known.delete(name);
    else this.known.set(name, { object: current, seenMs: now });
    return done();
  }

  private attributionOf(
    name: string,
    known: Known | undefined,
    current: KubeObject | undefined,
  ): Attribution {
    const now = this.deps.clock.now();
    const rv = current?.metadata.resourceVersion;
    return attribute({
      object: { ...POLICY_REF, name },
      ...(rv === undefined ? {} : { resourceVersion: rv }),
      managers: current === undefined ? [] : changedManagers(known?.object, current),
      sinceMs: known?.seenMs ?? now,
      observedMs: now,
      audit: this.deps.audit.about({ name }),
      admission: [],
      ...(current === undefined ? { deletion: true } : {}),
    });
  }

  private record(input: {
    readonly name: string;
    readonly change: PolicyChange;
    readonly before: KubeObject | undefined;
    readonly after: KubeObject | undefined;
    readonly who: Attribution;
  }): JournalRecord {
    const { name, change, who } = input;
    const policy = input.after ?? input.before;
    if (policy === undefined) throw new TypeError("a policy change needs a policy");
    return this.deps.recorder.append(
      {
        type: "policy-changed",
        object: journalObject(policy),
        ...(who.user === undefined ? {} : { user: who.user }),
        fieldManagers: who.fieldManagers,
        diff: policyDiff(input.before, input.after),
        message: messageOf(name, change, policy, who),
      },
      undefined,
    );
  }
}
