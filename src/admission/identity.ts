/**
 * Identity checks on userInfo, the only thing authentication vouches for. A service account
 * "ns/name" is the user "system:serviceaccount:ns:name" (how the API server names SA tokens).
 */
import type { IdentityList } from "./policy-types.js";

export interface Requester {
  readonly username: string;
  readonly groups: readonly string[];
}

export function serviceAccountUser(serviceAccount: string): string {
  const slash = serviceAccount.indexOf("/");
  return `system:serviceaccount:${serviceAccount.slice(0, slash)}:${serviceAccount.slice(slash + 1)}`;
}

/** The list entry that matches, for the message ("group system:nodes"), or undefined. */
export function matchIdentity(who: Requester, list: IdentityList): string | undefined {
  if (list.users.includes(who.username)) return `user ${who.username}`;
  const account = list.serviceAccounts.find((sa) => serviceAccountUser(sa) === who.username);
  if (account !== undefined) return `service account ${account}`;
  const group = who.groups.find((g) => list.groups.includes(g));
  return group === undefined ? undefined : `group ${group}`;
}

export function inAnyGroup(who: Requester, groups: readonly string[]): boolean {
  return who.groups.some((g) => groups.includes(g));
}
