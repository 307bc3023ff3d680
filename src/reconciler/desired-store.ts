import type { TypeRef } from "../kube/objects.js";
import type { AppliedObject } from "./apply/apply.js";
import type { LastApply } from "./apply/unchanged.js";
import type { DesiredObject } from "./desired.js";
import type { GitSyncStatus } from "./gitsync.js";
import type { SyncMemory } from "./schedule.js";
import type { Rendered } from "./sync.js";

interface Entry {
  memory?: SyncMemory;
  /** The revision a waiting sync rendered, to resume without fetching again. */
  rendered?: Rendered | undefined;
  /** The status last written, with the uid of the GitSync it was written to. */
  written?: { readonly uid: string | undefined; readonly status: GitSyncStatus };
  desired: ReadonlyMap<string, DesiredObject>;
  /** The hooks of one release that ran and were deleted (HookSucceeded), across resumes. */
  hooksDone?: { readonly release: string; readonly keys: Set<string> };
  /** Our last apply of each object, by desired key: tells "configured" from "unchanged". */
  applies: Map<string, LastApply>;
}

/** Which GitSync wants an object, and how. */
export interface DesiredOwner {
  readonly gitSync: string;
  readonly desired: DesiredObject;
}

/**
 * What Git says each object should be, per GitSync (key "namespace/name"), and the reverse
 * index from an object (desiredKey) to its GitSync: self-heal looks an object up on a watch
 * event and re-applies its desired state at once, without fetching or rendering.
 * In memory only; a restart rebuilds it with the first sync of each GitSync.
 */
export class DesiredStateStore {
  private readonly entries = new Map<string, Entry>();
  private readonly owners = new Map<string, string>();

  memory(gitSync: string): SyncMemory | undefined {
    return this.entries.get(gitSync)?.memory;
  }

  remember(gitSync: string, memory: SyncMemory): void {
    this.entry(gitSync).memory = memory;
  }

  rendered(gitSync: string): Rendered | undefined {
    return this.entries.get(gitSync)?.rendered;
  }

  rememberRendered(gitSync: string, rendered: Rendered | undefined): void {
    this.entry(gitSync).rendered = rendered;
  }

  /**
   * The status this process last wrote to the GitSync with this uid. The informer's copy can lag
   * behind our own write; the next sync must start from the inventory it wrote, or an object
   * applied a moment ago could be missing from "previous" and never be pruned.
   */
  writtenStatus(gitSync: string, uid: string | undefined): GitSyncStatus | undefined {
    const written = this.entries.get(gitSync)?.written;
    return written !== undefined && written.uid === uid ? written.status : undefined;
  }

  rememberStatus(gitSync: string, uid: string | undefined, status: GitSyncStatus): void {
    this.entry(gitSync).written = { uid, status };
  }

  /** Replaces the desired objects of gitSync (those of its last rendered revision). */
  setDesired(gitSync: string, desired: readonly DesiredObject[]): void {
    const entry = this.entry(gitSync);
    for (const key of entry.desired.keys()) {
      if (this.owners.get(key) === gitSync) this.owners.delete(key);
    }
    entry.desired = new Map(desired.map((d) => [d.key, d]));
    for (const key of entry.desired.keys()) this.owners.set(key, gitSync);
  }

  desiredOf(gitSync: string): ReadonlyMap<string, DesiredObject> {
    return this.entries.get(gitSync)?.desired ?? new Map();
  }

  /** The GitSync that owns the object with this desiredKey, and its desired state. */
  ownerOf(objectKey: string): DesiredOwner | undefined {
    const gitSync = this.owners.get(objectKey);
    const desired =
      gitSync === undefined ? undefined : this.entries.get(gitSync)?.desired.get(objectKey);
    return gitSync === undefined || desired === undefined ? undefined : { gitSync, desired };
  }

  /** Every kind some GitSync wants (what self-heal watches). */
  types(): TypeRef[] {
    const types = new Map<string, TypeRef>();
    for (const entry of this.entries.values()) {
      for (const { object } of entry.desired.values())
        types.set(`${object.apiVersion}/${object.kind}`, {
          apiVersion: object.apiVersion,
          kind: object.kind,
        });
    }
    return [...types.values()];
  }

  /** The done hooks of release (a new release starts with none). */
  hooksDone(gitSync: string, release: string): Set<string> {
    const entry = this.entry(gitSync);
    if (entry.hooksDone?.release !== release) entry.hooksDone = { release, keys: new Set() };
    return entry.hooksDone.keys;
  }

  lastApplies(gitSync: string): ReadonlyMap<string, LastApply> {
    return this.entries.get(gitSync)?.applies ?? new Map();
  }

  recordApplied(gitSync: string, applied: readonly AppliedObject[]): void {
    const applies = this.entry(gitSync).applies;
    for (const a of applied) {
      const resourceVersion = a.live.metadata.resourceVersion;
      if (resourceVersion !== undefined)
        applies.set(a.desired.key, { resourceVersion, sent: a.sent });
    }
  }

  forget(gitSync: string): void {
    this.setDesired(gitSync, []);
    this.entries.delete(gitSync);
  }

  private entry(gitSync: string): Entry {
    let entry = this.entries.get(gitSync);
    if (entry === undefined) {
      entry = { desired: new Map(), applies: new Map() };
      this.entries.set(gitSync, entry);
    }
    return entry;
  }
}
