/**
 * The status page's I/O edge: reads the journal, the break-glass book, the GitSync cache and
 * the key Secrets' metadata, and hands plain data to model.ts.
 */
import {
  ACTIVE_KEY,
  BITNAMI_KEY_SECRET_LABEL,
  KEY_SECRET_LABEL,
} from "../../crypto/sealing/key-secret.js";
import { errorMessage } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import type { KubeObject } from "../../kube/objects.js";
import type { Clock } from "../../runtime/clock.js";
import type { BreakGlassBook } from "../break-glass.js";
import type { JournalWindow } from "./journal-window.js";
import {
  breakGlassRows,
  driftTimeline,
  gitSyncRows,
  keyRows,
  type KeySecretMeta,
  type StatusModel,
} from "./model.js";

/** The newest journal records the timeline is built from: bounded work per page view. */
export const JOURNAL_WINDOW = 5000;
/** Drift rows shown. */
export const TIMELINE_ROWS = 100;

export interface StatusSources {
  /** The newest JOURNAL_WINDOW records, kept between views. */
  readonly journal: JournalWindow;
  readonly breakGlass: BreakGlassBook;
  /** The GitSyncs in the auditor's informer cache. */
  readonly gitSyncs: () => readonly KubeObject[];
  readonly keySecrets: () => Promise<readonly KeySecretMeta[]>;
  readonly keyNamespace: string;
}

export async function collectStatus(sources: StatusSources, nowMs: number): Promise<StatusModel> {
  const { head, records } = sources.journal.read();
  let keys: StatusModel["keys"];
  try {
    keys = { rows: keyRows(await sources.keySecrets()) };
  } catch (err: unknown) {
    // The rest of the page is still worth showing when the Secrets cannot be listed (RBAC).
    keys = { error: errorMessage(err) };
  }
  return {
    gitSyncs: gitSyncRows(sources.gitSyncs()),
    drifts: driftTimeline(records, TIMELINE_ROWS),
    journal: { scanned: records.length, headSeq: head.seq },
    breakGlass: breakGlassRows(sources.breakGlass.list(nowMs), records),
    keyNamespace: sources.keyNamespace,
    keys,
  };
}

const SECRET = { apiVersion: "v1", kind: "Secret" } as const;
const LABELS = [
  [KEY_SECRET_LABEL, "gitops-guard"],
  [BITNAMI_KEY_SECRET_LABEL, "bitnami"],
] as const;

/**
 * The sealing key Secrets of the controller's namespace, as metadata only: the API server
 * sends no data, so no key material reaches this process for the page.
 */
export async function listKeySecrets(
  kube: KubeClient,
  namespace: string,
): Promise<KeySecretMeta[]> {
  const byName = new Map<string, KeySecretMeta>();
  for (const [label, source] of LABELS) {
    const { items } = await kube.list(SECRET, {
      namespace,
      labelSelector: `${label}=${ACTIVE_KEY}`,
      metadataOnly: true,
    });
    for (const { metadata } of items) {
      const name = metadata.name ?? "";
      const created = Date.parse(metadata.creationTimestamp ?? "");
      const seen = byName.get(name);
      byName.set(name, {
        namespace,
        name,
        ...(Number.isNaN(created) ? {} : { createdMs: created }),
        labels: [...(seen?.labels ?? []), source],
      });
    }
  }
  return [...byName.values()];
}

/**
 * fn's answer, reused for ttlMs: a page that refreshes itself in several browsers must not
 * turn into a steady stream of Secret lists against the API server. Failures are not kept.
 */
export function cachedFor<T>(ttlMs: number, clock: Clock, fn: () => Promise<T>): () => Promise<T> {
  let kept: { readonly atMs: number; readonly value: Promise<T> } | undefined;
  return () => {
    const now = clock.now();
    if (kept !== undefined && now - kept.atMs < ttlMs) return kept.value;
    const value = fn();
    const entry = { atMs: now, value };
    kept = entry;
    value.catch(() => {
      if (kept === entry) kept = undefined;
    });
    return value;
  };
}
