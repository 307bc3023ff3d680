import type { Clock } from "../../runtime/clock.js";
import type { AdmissionFact, AuditFact, ObjectKey } from "./facts.js";

export interface FactIndexOptions {
  readonly clock: Clock;
  /** How long a fact is kept; attribution happens within seconds of the change. */
  readonly ttlMs?: number;
  /** A bound on memory under a flood; the oldest facts go first. */
  readonly maxEntries?: number;
}

type Fact = AuditFact | AdmissionFact;

function objectId(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

/**
 * A short-lived, bounded index of who did what, keyed by object: the audit webhook's requests
 * and the admission webhook's Events land here, and the reconcile of a changed object looks
 * them up by object and time.
 */
export class FactIndex<F extends Fact> {
  private readonly byObject = new Map<string, F[]>();
  private readonly order: { readonly id: string; readonly fact: F; readonly at: number }[] = [];
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(options: FactIndexOptions) {
    this.clock = options.clock;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  add(fact: F): void {
    this.expire();
    const id = objectId(fact.namespace, fact.name);
    const list = this.byObject.get(id) ?? [];
    list.push(fact);
    this.byObject.set(id, list);
    this.order.push({ id, fact, at: this.clock.now() });
    while (this.order.length > this.maxEntries) this.dropOldest();
  }

  /** The facts about the object with this namespace and name, oldest first. */
  about(key: Pick<ObjectKey, "namespace" | "name">): readonly F[] {
    this.expire();
    return this.byObject.get(objectId(key.namespace, key.name)) ?? [];
  }

  size(): number {
    return this.order.length;
  }

  private expire(): void {
    const horizon = this.clock.now() - this.ttlMs;
    for (;;) {
      const first = this.order[0];
      if (first === undefined || first.at >= horizon) return;
      this.dropOldest();
    }
  }

  private dropOldest(): void {
    const first = this.order.shift();
    if (first === undefined) return;
    const list = this.byObject.get(first.id);
    const rest = list?.filter((f) => f !== first.fact) ?? [];
    if (rest.length === 0) this.byObject.delete(first.id);
    else this.byObject.set(first.id, rest);
  }
}
