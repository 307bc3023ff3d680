import type { KubeClient } from "../kube/client.js";
import {
  gitSyncAccount,
  type GitSyncAccount,
  type GitSyncIdentitySettings,
} from "../presets/gitsync-identity.js";
import type { GitSyncSpec } from "./gitsync.js";
import { apiReader, type LiveReader } from "./health/read.js";

/** Who a GitSync's requests go out as: its client, a reader on it, and the account (if not ours). */
export interface Actor {
  readonly kube: KubeClient;
  readonly read: LiveReader;
  /** Absent: the reconciler's own identity (a platform GitSync). */
  readonly account?: GitSyncAccount;
}

interface Shared {
  readonly actor: Actor;
  readonly users: Set<string>;
}

/**
 * One impersonating client per service account in use, shared by the GitSyncs that name it
 * (one HTTP/2 connection each), closed when the last of them goes. Every request made for a
 * GitSync (apply, prune, health reads, hooks, self-heal) goes through its actor, so a tenant
 * gets exactly the RBAC bound to its account; reads the controller needs for itself (Git and
 * decryption Secrets of the GitSync's namespace, discovery, watches) keep its own identity.
 */
export class GitSyncActors {
  private readonly base: KubeClient;
  private readonly settings: GitSyncIdentitySettings;
  private readonly own: Actor;
  private readonly byUser = new Map<string, Shared>();
  private readonly userOf = new Map<string, string>();

  constructor(base: KubeClient, settings: GitSyncIdentitySettings) {
    this.base = base;
    this.settings = settings;
    this.own = { kube: base, read: apiReader(base) };
  }

  /** The actor of GitSync key (namespace/name) with this spec; remembers the choice for key. */
  for(key: string, namespace: string, spec: Pick<GitSyncSpec, "serviceAccountName">): Actor {
    const account = gitSyncAccount(
      { namespace, serviceAccountName: spec.serviceAccountName },
      this.settings,
    );
    if (this.userOf.get(key) !== account?.username) this.release(key);
    if (account === undefined) return this.own;
    this.userOf.set(key, account.username);
    let shared = this.byUser.get(account.username);
    if (shared === undefined) {
      const kube = this.base.impersonating({ user: account.username });
      shared = { actor: { kube, read: apiReader(kube), account }, users: new Set() };
      this.byUser.set(account.username, shared);
    }
    shared.users.add(key);
    return shared.actor;
  }

  /** The actor last chosen for key (self-heal between syncs); the reconciler's own if none. */
  current(key: string): Actor {
    const user = this.userOf.get(key);
    return (user === undefined ? undefined : this.byUser.get(user)?.actor) ?? this.own;
  }

  /** The GitSync is gone: its account's client closes once no other GitSync uses it. */
  release(key: string): void {
    const user = this.userOf.get(key);
    if (user === undefined) return;
    this.userOf.delete(key);
    const shared = this.byUser.get(user);
    if (shared === undefined) return;
    shared.users.delete(key);
    if (shared.users.size > 0) return;
    this.byUser.delete(user);
    shared.actor.kube.rest.close();
  }

  close(): void {
    for (const shared of this.byUser.values()) shared.actor.kube.rest.close();
    this.byUser.clear();
    this.userOf.clear();
  }
}
