/** When a heal loop counts as a fight, and how healing backs off once it does. */
export interface FightSettings {
  /** Heals undone by the same other field manager within windowMs that make a fight. */
  readonly threshold: number;
  readonly windowMs: number;
  /** The first backoff; it doubles with every further heal, up to capMs. */
  readonly backoffMs: number;
  readonly capMs: number;
}

interface History {
  readonly manager: string;
  /** The last heals, oldest first (at most threshold of them). */
  heals: number[];
  /** Heals in a row, each soon after the one before. */
  streak: number;
  fighting: boolean;
}

/**
 * Remembers, per object, the heals that undid the same other field manager (an HPA, another
 * GitOps tool, a script in a loop). threshold heals within windowMs make a fight: from then on
 * each heal waits a doubling delay capped at capMs instead of answering at once, until the other
 * manager stays quiet for twice the current delay. Time comes in as arguments.
 */
export class FightTracker {
  private readonly history = new Map<string, History>();
  private readonly settings: FightSettings;

  constructor(settings: FightSettings) {
    this.settings = settings;
  }

  /** Records a heal of key that undid manager's change. */
  healed(key: string, manager: string, now: number): void {
    const { threshold, windowMs } = this.settings;
    let h = this.history.get(key);
    const last = h?.heals[h.heals.length - 1];
    if (
      h === undefined ||
      h.manager !== manager ||
      last === undefined ||
      now - last > this.quietMs(h)
    ) {
      h = { manager, heals: [], streak: 0, fighting: false };
      this.history.set(key, h);
    }
    h.heals = [...h.heals, now].slice(-threshold);
    h.streak++;
    const first = h.heals[0] ?? now;
    if (h.heals.length >= threshold && now - first <= windowMs) h.fighting = true;
  }

  /** The other manager key is fighting with (when manager is the one that changed it last). */
  fightWith(key: string, manager: string | undefined, now: number): string | undefined {
    const h = this.current(key, now);
    return h?.fighting === true && h.manager === manager ? h.manager : undefined;
  }

  /** How long the next heal of key must wait (0: heal now). */
  delay(key: string, manager: string | undefined, now: number): number {
    const h = this.current(key, now);
    if (h?.fighting !== true || h.manager !== manager) return 0;
    const last = h.heals[h.heals.length - 1] ?? now;
    return Math.max(0, last + this.backoffMs(h) - now);
  }

  /** Heals in the current fight of key (0 when there is none). */
  streak(key: string, now: number): number {
    return this.current(key, now)?.streak ?? 0;
  }

  forget(key: string): void {
    this.history.delete(key);
  }

  private current(key: string, now: number): History | undefined {
    const h = this.history.get(key);
    const last = h?.heals[h.heals.length - 1];
    if (h === undefined || last === undefined) return undefined;
    if (now - last <= this.quietMs(h)) return h;
    this.history.delete(key);
    return undefined;
  }

  private backoffMs(h: History): number {
    const { threshold, backoffMs, capMs } = this.settings;
    return Math.min(capMs, backoffMs * 2 ** Math.max(0, h.streak - threshold));
  }

  private quietMs(h: History): number {
    return Math.max(this.settings.windowMs, 2 * this.backoffMs(h));
  }
}
