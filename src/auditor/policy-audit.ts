import type { KubeObject } from "../kube/objects.js";
import type { Clock } from "../runtime/clock.js";
import { done, requeueAfter, type ReconcileResult } from "../runtime/result.js";
import { attribute, type Attribution } from "./attribution/attribute.js";
import type { AuditFact } from "./attribution/facts.js";
import type { FactIndex } from "./attribution/index.js";
import { changedManagers } from "./attribution/managed-fields.js";
import { fieldDiff } from "./diff/diff.js";
import { WHOLE_OBJECT_REMOVED } from "./drift-tracker.js";
import {
  secretValueDigest,
  type FieldChange,
  type JournalObject,
  type JournalRecord,
} from "./journal/record.js";
import type { JournalStore } from "./journal/store.js";
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
  /** The newest policy-changed record of each policy in the journal, by policy name. */
  readonly journaled?: () => ReadonlyMap<string, JournalRecord>;
}

interface Known {
  readonly object: KubeObject;
  readonly seenMs: number;
}

/** The newest policy-changed record of each GuardPolicy in the journal. */
export function lastPolicyRecords(journal: JournalStore): Map<string, JournalRecord> {
  const last = new Map<string, JournalRecord>();
  let afterSeq = 0;
  for (;;) {
    const page = journal.list({
      afterSeq,
      limit: 1000,
      type: "policy-changed",
      kind: "GuardPolicy",
    });
    for (const r of page) if (r.object !== undefined) last.set(r.object.name, r);
    const tail = page.at(-1);
    if (tail === undefined || page.length < 1000) return last;
    afterSeq = tail.seq;
  }
}

/** "manager (Operation)" of every managedFields entry, as attribution names them. */
function managerNamesOf(policy: KubeObject): string[] {
  const names = changedManagers(undefined, policy).map((m) => `${m.manager} (${m.operation})`);
  return [...new Set(names)];
}

/** The journal's view of a policy: with its generation, which a restart compares with. */
function policyObject(policy: KubeObject): JournalObject {
  const generation = policy.metadata.generation;
  return { ...journalObject(policy), ...(generation === undefined ? {} : { generation }) };
}

function isDeletion(record: JournalRecord): boolean {
  return (record.diff ?? []).some((c) => c.path === "" && c.op === "remove");
}

/** What the journal's last record of a policy misses of its current state. */
export function missedChange(last: JournalRecord, current: KubeObject): PolicyChange | undefined {
  if (isDeletion(last) || last.object?.uid !== current.metadata.uid) return "created";
  const was = last.object?.generation;
  // Records written before generations were kept cannot tell a change.
  if (was === undefined || was === current.metadata.generation) return undefined;
  return "changed";
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

  /**
   * The policies the auditor finds at start are its baseline; but where the journal already
   * holds a record of a policy, a policy created, changed or deleted since (while no auditor
   * ran) is journaled now, with what can still be known: the spec of a created one, the
   * generations of a changed one.
   */
  seed(policies: readonly KubeObject[]): void {
    const now = this.deps.clock.now();
    const journaled = this.deps.journaled?.() ?? new Map<string, JournalRecord>();
    for (const policy of policies) {
      const name = policy.metadata.name ?? "";
      const last = journaled.get(name);
      const missed = last === undefined ? undefined : missedChange(last, policy);
      if (missed !== undefined) this.recordMissed(missed, last, policy);
      this.known.set(name, { object: policy, seenMs: now });
    }
    const present = new Set(policies.map((p) => p.metadata.name ?? ""));
    for (const [name, last] of journaled) {
      if (!present.has(name) && !isDeletion(last)) this.recordMissed("deleted", last, undefined);
    }
  }

  private recordMissed(
    change: PolicyChange,
    last: JournalRecord | undefined,
    current: KubeObject | undefined,
  ): void {
    const was = last?.object;
    const object = current === undefined ? was : policyObject(current);
    if (object === undefined) return;
    const generations =
      change === "changed"
        ? ` (generation ${String(was?.generation)} to ${String(object.generation)})`
        : "";
    const unknown = change === "changed" ? "who and which fields are" : "who is";
    this.deps.recorder.append(
      {
        type: "policy-changed",
        object,
        ...(current === undefined ? {} : { fieldManagers: managerNamesOf(current) }),
        diff: change === "changed" ? [] : policyDiff(undefined, current),
        message: `GuardPolicy ${object.name} ${change} while no auditor was running${generations}; ${unknown} not known`,
      },
      undefined,
    );
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
        object: policyObject(policy),
        ...(who.user === undefined ? {} : { user: who.user }),
        fieldManagers: who.fieldManagers,
        diff: policyDiff(input.before, input.after),
        message: messageOf(name, change, policy, who),
      },
      undefined,
    );
  }
}
