import { errorMessage } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import { setCondition, type Condition } from "../../runtime/conditions.js";
import type { Logger } from "../../telemetry/log.js";
import { GITSYNC } from "../names.js";

/** Why an object stays different from Git. Field paths only: never values (Secrets). */
export interface DriftNote {
  readonly reason: "HealForbidden" | "SelfHealDisabled" | "BreakGlass" | "HealLoop";
  readonly message: string;
}

/** The Drifted condition's own field manager: the sync's status writes leave Drifted alone. */
export const DRIFT_FIELD_MANAGER = "gitops-guard-selfheal";
const MAX_MESSAGE = 2000;
const PRIORITY: readonly DriftNote["reason"][] = [
  "HealForbidden",
  "HealLoop",
  "BreakGlass",
  "SelfHealDisabled",
];

/** The Drifted condition for a GitSync's notes, by object. Pure. */
export function driftedVerdict(
  notes: ReadonlyMap<string, DriftNote>,
): Omit<Condition, "lastTransitionTime"> {
  if (notes.size === 0)
    return { type: "Drifted", status: "False", reason: "InSync", message: "no unhealed drift" };
  const all = [...notes.values()];
  const reason = PRIORITY.find((r) => all.some((n) => n.reason === r)) ?? "SelfHealDisabled";
  const message = all
    .map((n) => n.message)
    .sort()
    .join("; ");
  return {
    type: "Drifted",
    status: "True",
    reason,
    message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message,
  };
}

export interface ReportDeps {
  readonly kube: KubeClient;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * Keeps the Drifted condition of each GitSync: which objects differ from Git and why (self-heal
 * off, break-glass, a heal loop naming the other field manager). Written only when it changes.
 */
export class DriftReport {
  private readonly notes = new Map<string, Map<string, DriftNote>>();
  private readonly written = new Map<string, Condition>();
  /** One write at a time per GitSync, each from the notes as they are when it starts. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly deps: ReportDeps;

  constructor(deps: ReportDeps) {
    this.deps = deps;
  }

  /** Sets (or with undefined clears) the note on one object of gitSync ("namespace/name"). */
  async note(
    gitSync: { readonly key: string; readonly generation: number | undefined },
    object: string,
    note: DriftNote | undefined,
  ): Promise<void> {
    let notes = this.notes.get(gitSync.key);
    if (notes === undefined) {
      if (note === undefined) return;
      notes = new Map();
      this.notes.set(gitSync.key, notes);
    }
    if (note === undefined) notes.delete(object);
    else notes.set(object, note);
    const current = notes;
    const chain = (this.chains.get(gitSync.key) ?? Promise.resolve()).then(() =>
      this.write(gitSync, current),
    );
    this.chains.set(gitSync.key, chain);
    await chain;
  }

  forget(gitSync: string): void {
    this.notes.delete(gitSync);
    this.written.delete(gitSync);
    this.chains.delete(gitSync);
  }

  /** The condition to write now, or undefined when the written one still says it. */
  private nextCondition(
    gitSync: { readonly key: string; readonly generation: number | undefined },
    notes: ReadonlyMap<string, DriftNote>,
  ): Condition | undefined {
    const previous = this.written.get(gitSync.key);
    const verdict = driftedVerdict(notes);
    if (previous === undefined && verdict.status === "False") return undefined;
    const generation =
      gitSync.generation === undefined ? {} : { observedGeneration: gitSync.generation };
    const [next] = setCondition(
      previous === undefined ? [] : [previous],
      { ...verdict, ...generation },
      this.deps.now(),
    );
    return JSON.stringify(previous) === JSON.stringify(next) ? undefined : next;
  }

  private async write(
    gitSync: { readonly key: string; readonly generation: number | undefined },
    notes: ReadonlyMap<string, DriftNote>,
  ): Promise<void> {
    const next = this.nextCondition(gitSync, notes);
    if (next === undefined) return;
    const [namespace = "", name = ""] = gitSync.key.split("/");
    try {
      await this.deps.kube.applyStatus(
        { ...GITSYNC, metadata: { namespace, name }, status: { conditions: [next] } },
        { fieldManager: DRIFT_FIELD_MANAGER, force: true },
      );
      this.written.set(gitSync.key, next);
    } catch (err: unknown) {
      this.deps.logger.warn(
        { gitSync: gitSync.key, err: errorMessage(err) },
        "Drifted condition not written",
      );
    }
  }
}
