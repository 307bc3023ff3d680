import type { KubeObject } from "../kube/objects.js";
import { BREAK_GLASS_ANNOTATION, BREAK_GLASS_EXPIRES_ANNOTATION } from "./recorder.js";

/** One object under break-glass: what the status page lists. */
export interface BreakGlassEntry {
  readonly object: {
    readonly apiVersion: string;
    readonly kind: string;
    readonly namespace?: string;
    readonly name: string;
  };
  readonly reason: string;
  /** Epoch ms; +Infinity when the expiry annotation is missing or not a time. */
  readonly untilMs: number;
}

/**
 * Which watched objects carry a break-glass annotation, and until when: the source of the
 * break-glass-active gauge (counted at scrape time, so an expiry shows without a new event)
 * and of the status page's break-glass table.
 */
export class BreakGlassBook {
  private readonly entries = new Map<string, BreakGlassEntry>();

  note(id: string, obj: KubeObject | undefined): void {
    const annotations = obj?.metadata.annotations ?? {};
    const reason = annotations[BREAK_GLASS_ANNOTATION];
    if (obj === undefined || reason === undefined) {
      this.entries.delete(id);
      return;
    }
    const expires = Date.parse(annotations[BREAK_GLASS_EXPIRES_ANNOTATION] ?? "");
    const { namespace, name = "" } = obj.metadata;
    this.entries.set(id, {
      object: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        ...(namespace === undefined ? {} : { namespace }),
        name,
      },
      reason,
      // No valid expiry: active until the annotation goes (the webhook would not allow it anyway).
      untilMs: Number.isNaN(expires) ? Number.POSITIVE_INFINITY : expires,
    });
  }

  active(nowMs: number): number {
    return this.list(nowMs).length;
  }

  /** The entries still active at nowMs, soonest expiry first. */
  list(nowMs: number): BreakGlassEntry[] {
    return [...this.entries.values()]
      .filter((entry) => entry.untilMs > nowMs)
      .sort((a, b) => a.untilMs - b.untilMs);
  }

  clear(): void {
    this.entries.clear();
  }
}
