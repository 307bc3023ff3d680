/**
 * What `gitops-guard break-glass` sends, as pure functions: the target it names (kubectl's
 * KIND/NAME spellings), and the one merge patch that sets or ends a break-glass. The webhook
 * judges that patch like any other change (break-glass.ts): the CLI grants nothing itself.
 */
import { ErrorCodes, GuardError } from "../errors.js";
import { BREAK_GLASS_ANNOTATIONS } from "./break-glass.js";

export interface Target {
  /** "deployment", "deployments", "deploy", "Deployment": matched against discovery. */
  readonly resource: string;
  /** The group, when written as deployments.apps/web; undefined when not given. */
  readonly group?: string;
  readonly name: string;
}

/** "deployment/web", "deployments.apps/web", "Deployment/web". */
export function parseTarget(text: string): Target {
  const slash = text.indexOf("/");
  const kind = slash < 0 ? "" : text.slice(0, slash);
  const name = slash < 0 ? "" : text.slice(slash + 1);
  if (kind === "" || name === "" || name.includes("/")) {
    throw new GuardError(
      ErrorCodes.BREAK_GLASS_INVALID,
      `the target must be KIND/NAME (for example deployment/web), not "${text}"`,
    );
  }
  const dot = kind.indexOf(".");
  return dot < 0
    ? { resource: kind, name }
    : { resource: kind.slice(0, dot), group: kind.slice(dot + 1), name };
}

/** One entry of an APIResourceList, with the group-version it came from. */
export interface DiscoveredResource {
  readonly groupVersion: string;
  readonly name: string;
  readonly singularName?: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  readonly verbs?: readonly string[];
}

function groupOfVersion(groupVersion: string): string {
  const slash = groupVersion.indexOf("/");
  return slash < 0 ? "" : groupVersion.slice(0, slash);
}

function names(r: DiscoveredResource): string[] {
  return [r.name, r.singularName ?? "", r.kind, ...(r.shortNames ?? [])]
    .filter((n) => n !== "")
    .map((n) => n.toLowerCase());
}

/**
 * The resource target names, as kubectl resolves it: plural, singular, kind or short name, any
 * case; the core group first, then the others in discovery order. Subresources never match.
 */
export function matchResource(
  target: Target,
  resources: readonly DiscoveredResource[],
): DiscoveredResource {
  const wanted = target.resource.toLowerCase();
  const candidates = resources.filter(
    (r) =>
      !r.name.includes("/") &&
      (target.group === undefined || groupOfVersion(r.groupVersion) === target.group) &&
      names(r).includes(wanted),
  );
  const found = candidates.find((r) => groupOfVersion(r.groupVersion) === "") ?? candidates[0];
  if (found === undefined) {
    const what =
      target.group === undefined ? target.resource : `${target.resource}.${target.group}`;
    throw new GuardError(
      ErrorCodes.BREAK_GLASS_INVALID,
      `the API server has no resource type "${what}"`,
    );
  }
  return found;
}

export interface BreakGlassMark {
  readonly reason: string;
  /** RFC 3339 */
  readonly expires: string;
  /** The caller's user name, from a SelfSubjectReview. */
  readonly by: string;
}

/** The merge patch that sets all three annotations in one request. */
export function setMarkPatch(mark: BreakGlassMark): object {
  return {
    metadata: {
      annotations: {
        [BREAK_GLASS_ANNOTATIONS.reason]: mark.reason,
        [BREAK_GLASS_ANNOTATIONS.expires]: mark.expires,
        [BREAK_GLASS_ANNOTATIONS.by]: mark.by,
      },
    },
  };
}

/** The merge patch that removes them. */
export function endMarkPatch(): object {
  return {
    metadata: {
      annotations: {
        [BREAK_GLASS_ANNOTATIONS.reason]: null,
        [BREAK_GLASS_ANNOTATIONS.expires]: null,
        [BREAK_GLASS_ANNOTATIONS.by]: null,
      },
    },
  };
}
