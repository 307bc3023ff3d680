import { FIELD_MANAGER, type KubeClient } from "../../kube/client.js";
import { keyOf, parseKey, type KubeObject } from "../../kube/objects.js";
import { apiRefusal, isNamespaceTerminating } from "../../kube/status-errors.js";
import type { Clock } from "../../runtime/clock.js";
import { done, requeueAfter, type ReconcileResult } from "../../runtime/result.js";
import type { Logger } from "../../telemetry/log.js";
import type { DesiredOwner, DesiredStateStore } from "../desired-store.js";
import { serverMessage } from "../apply/apply.js";
import type { DesiredObject } from "../desired.js";
import type { EventRecorder } from "../events.js";
import { parseGitSyncSpec, type GitSyncObject, type GitSyncSpec } from "../gitsync.js";
import { covers, driftedPaths, lastManager, withoutPointers } from "./drift.js";
import type { DriftNote, DriftReport } from "./drift-report.js";
import type { FightTracker } from "./fights.js";
import type { SelfHealMetrics } from "./metrics.js";
import {
  breakGlassUntil,
  ignoredPointers,
  parseIgnoreRules,
  REPLICAS_POINTER,
  scaledByHpa,
} from "./policy.js";
import type { KindWatches } from "./watches.js";

/** What healing one object needs; built once by the self-healer. */
export interface HealContext {
  readonly kube: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: DesiredStateStore;
  readonly lookup: (namespace: string, name: string) => GitSyncObject | undefined;
  /** The client a GitSync's heals go out as (its service account); absent: kube. */
  readonly clientFor?: (gitSync: string) => KubeClient;
  readonly watches: KindWatches;
  readonly fights: FightTracker;
  readonly report: DriftReport;
  readonly metrics: SelfHealMetrics;
  /** Events on the GitSync: heals, heal loops, drift left alone. */
  readonly events: EventRecorder;
  /** When the first unhandled watch event of each object arrived (for the latency histogram). */
  readonly seen: Map<string, number>;
}

/** One object's drift: fields Git sets that differ, and ignored fields that differ too. */
interface Drift {
  readonly fields: readonly string[];
  readonly ignored: readonly string[];
  readonly manager: string | undefined;
}

/** A delete is drift of the whole object. */
const GONE = "(deleted)";
/** After the GitSync's account was refused a heal: a later sync or edit may find it allowed. */
const FORBIDDEN_RETRY_MS = 60_000;

interface Target {
  readonly key: string;
  readonly owner: DesiredOwner;
  readonly gitSync: { readonly key: string; readonly generation: number | undefined };
  readonly spec: GitSyncSpec;
  readonly gitSyncObj: GitSyncObject;
  readonly live: KubeObject | undefined;
}

function describe(owner: DesiredOwner): string {
  return `${owner.desired.ref.kind} ${keyOf(owner.desired.ref)}`;
}

/** The pointers nobody heals on live: spec.ignoreFields, and /spec/replicas under an HPA. */
function ignoredOn(ctx: HealContext, gitSync: GitSyncObject, live: KubeObject): string[] {
  const ignore = ignoredPointers(parseIgnoreRules(gitSync.spec), live);
  if (scaledByHpa(ctx.watches.hpaList(), live)) ignore.push(REPLICAS_POINTER);
  return ignore;
}

function split(
  paths: readonly string[],
  ignore: readonly string[],
): { fields: string[]; ignored: string[] } {
  const isIgnored = (p: string): boolean => ignore.some((i) => covers(i, p));
  return { fields: paths.filter((p) => !isIgnored(p)), ignored: paths.filter(isIgnored) };
}

function driftOf(ctx: HealContext, t: Target): Drift {
  if (t.live === undefined) return { fields: [GONE], ignored: [], manager: undefined };
  const paths = driftedPaths(t.owner.desired.object, t.live);
  return { ...split(paths, ignoredOn(ctx, t.gitSyncObj, t.live)), manager: lastManager(t.live) };
}

/**
 * What a sync applies for desired: without the ignored fields that differ on the live object
 * (someone else set them, and an ignored field is ignored by every apply, not only by heals).
 */
export function syncShape(
  ctx: HealContext,
  gitSync: GitSyncObject,
  desired: DesiredObject,
): KubeObject {
  const live = ctx.watches.live(desired.object, desired.ref.namespace, desired.ref.name);
  if (live === undefined) return desired.object;
  const { ignored } = split(driftedPaths(desired.object, live), ignoredOn(ctx, gitSync, live));
  return ignored.length === 0 ? desired.object : withoutPointers(desired.object, ignored);
}

function noteText(t: Target, drift: Drift, why: string): string {
  const by = drift.manager === undefined ? "" : ` (last changed by field manager ${drift.manager})`;
  return `${describe(t.owner)} differs from Git at ${drift.fields.join(", ")}${by}: ${why}`;
}

async function pause(
  ctx: HealContext,
  t: Target,
  note: DriftNote,
  afterMs: number | undefined,
): Promise<ReconcileResult> {
  ctx.seen.delete(t.key);
  await ctx.report.note(t.gitSync, t.key, note);
  await ctx.events.record(t.gitSyncObj, { type: "Warning", ...note });
  return afterMs === undefined ? done() : requeueAfter(Math.max(1, afterMs));
}

/** Whether to wait rather than heal now, and the note that says why. */
function holdBack(
  ctx: HealContext,
  t: Target,
  drift: Drift,
): [DriftNote, number | undefined] | undefined {
  const now = ctx.clock.now();
  if (!t.spec.selfHeal)
    return [
      { reason: "SelfHealDisabled", message: noteText(t, drift, "selfHeal is off") },
      undefined,
    ];
  const until = breakGlassUntil(t.live, now);
  if (until !== undefined) {
    const why = `break-glass until ${new Date(until).toISOString()}`;
    return [{ reason: "BreakGlass", message: noteText(t, drift, why) }, until - now + 20];
  }
  const wait = ctx.fights.delay(t.key, drift.manager, now);
  if (wait <= 0) return undefined;
  const why = `heal loop with field manager ${drift.manager ?? GONE}: ${String(ctx.fights.streak(t.key, now))} heals in a row; next heal in ${String(Math.ceil(wait / 1000))}s`;
  return [{ reason: "HealLoop", message: noteText(t, drift, why) }, wait];
}

/** Heals as the GitSync's account: true, false (nothing to heal into), or why it was refused. */
async function apply(ctx: HealContext, t: Target, drift: Drift): Promise<boolean | DriftNote> {
  try {
    const kube = ctx.clientFor?.(t.gitSync.key) ?? ctx.kube;
    await kube.apply(withoutPointers(t.owner.desired.object, drift.ignored), { force: true });
    return true;
  } catch (err: unknown) {
    // Its namespace is going away: nothing to heal into.
    if (isNamespaceTerminating(err)) return false;
    // RBAC refused the GitSync's account: retrying at once changes nothing; say so instead.
    if (apiRefusal(err)?.status !== 403) throw err;
    const why = `its account may not heal it: ${serverMessage(err).slice(0, 1000)}`;
    return { reason: "HealForbidden", message: noteText(t, drift, why) };
  }
}

async function heal(ctx: HealContext, t: Target, drift: Drift): Promise<ReconcileResult> {
  const kind = t.owner.desired.ref.kind;
  const applied = await apply(ctx, t, drift);
  if (applied === false) return done();
  if (applied !== true) return pause(ctx, t, applied, FORBIDDEN_RETRY_MS);
  const now = ctx.clock.now();
  const seen = ctx.seen.get(t.key);
  ctx.seen.delete(t.key);
  ctx.metrics.healed.inc({ kind });
  if (seen !== undefined) ctx.metrics.latency.observe({ kind }, Math.max(0, now - seen) / 1000);
  const manager = drift.manager ?? GONE;
  const wasFight = ctx.fights.fightWith(t.key, manager, now) !== undefined;
  ctx.fights.healed(t.key, manager, now);
  ctx.logger.info(
    { object: describe(t.owner), fields: drift.fields, manager },
    "self-healed drift",
  );
  const fight = ctx.fights.fightWith(t.key, manager, now);
  if (fight === undefined) {
    await ctx.report.note(t.gitSync, t.key, undefined);
    const message = `${describe(t.owner)}: ${drift.fields.join(", ")} put back as Git says (changed by ${manager})`;
    await ctx.events.record(t.gitSyncObj, { type: "Normal", reason: "SelfHealed", message });
    return done();
  }
  if (!wasFight) ctx.metrics.loops.inc({ kind });
  const why = `heal loop with field manager ${fight}: ${String(ctx.fights.streak(t.key, now))} heals in a row; healing backs off`;
  const note = { reason: "HealLoop", message: noteText(t, drift, why) } as const;
  await ctx.report.note(t.gitSync, t.key, note);
  await ctx.events.record(t.gitSyncObj, { type: "Warning", ...note });
  return done();
}

function targetOf(ctx: HealContext, key: string): Target | undefined {
  const owner = ctx.store.ownerOf(key);
  if (owner === undefined) return undefined;
  const { namespace = "", name } = parseKey(owner.gitSync);
  const gitSyncObj = ctx.lookup(namespace, name);
  if (gitSyncObj === undefined) return undefined;
  let spec: GitSyncSpec;
  try {
    spec = parseGitSyncSpec(gitSyncObj);
  } catch {
    return undefined; // the sync reports an invalid spec
  }
  const { ref, object } = owner.desired;
  if (spec.suspend || !ctx.watches.synced(object)) return undefined;
  const gitSync = { key: owner.gitSync, generation: gitSyncObj.metadata.generation };
  const live = ctx.watches.live(object, ref.namespace, ref.name);
  return { key, owner, gitSync, spec, gitSyncObj, live };
}

/**
 * Heals the object with this desiredKey from the watch caches: re-applies what Git says (one
 * forced server-side apply as the reconciler), re-creates it when deleted, or reports why not.
 */
export async function healObject(ctx: HealContext, key: string): Promise<ReconcileResult> {
  const t = targetOf(ctx, key);
  if (t === undefined || t.live?.metadata.deletionTimestamp !== undefined) {
    ctx.seen.delete(key);
    return done();
  }
  // Our own write (the latest change is ours): nothing out of band to look at.
  if (t.live !== undefined && lastManager(t.live) === FIELD_MANAGER) {
    ctx.seen.delete(key);
    await ctx.report.note(t.gitSync, key, undefined);
    return done();
  }
  const drift = driftOf(ctx, t);
  if (drift.fields.length === 0) {
    ctx.seen.delete(key);
    await ctx.report.note(t.gitSync, key, undefined);
    return done();
  }
  if (ctx.seen.has(key)) ctx.metrics.detected.inc({ kind: t.owner.desired.ref.kind });
  const held = holdBack(ctx, t, drift);
  return held === undefined ? heal(ctx, t, drift) : pause(ctx, t, held[0], held[1]);
}
