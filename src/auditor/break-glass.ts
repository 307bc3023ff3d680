import type { KubeObject } from "../kube/objects.js";
import { BREAK_GLASS_ANNOTATION, BREAK_GLASS_EXPIRES_ANNOTATION } from "./recorder.js";

/**
 * Which watched objects carry a break-glass annotation, and until when: the source of the
 * break-glass-active gauge, counted at scrape time so an expiry shows without a new event.
 */
export class BreakGlassBook {
  private readonly until = new Map<string, number>();

  note(id: string, obj: KubeObject | undefined): void {
    const annotations = obj?.metadata.annotations ?? {};
    if (annotations[BREAK_GLASS_ANNOTATION] === undefined) {
      this.until.delete(id);
      return;
    }
    const expires = Date.parse(annotations[BREAK_GLASS_EXPIRES_ANNOTATION] ?? "");
    // No valid expiry: active until the annotation goes (the webhook would not allow it anyway).
    this.until.set(id, Number.isNaN(expires) ? Number.POSITIVE_INFINITY : expires);
  }

  active(nowMs: number): number {
    let n = 0;
    for (const expires of this.until.values()) if (expires > nowMs) n++;
    return n;
  }

  clear(): void {
    this.until.clear();
  }
}
