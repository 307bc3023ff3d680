import { ErrorCodes } from "../errors.js";
import type { KubeObject, ObjectRef } from "../kube/objects.js";
import type { Condition } from "../runtime/conditions.js";
import { TerminalError } from "../runtime/result.js";
import { parseDuration } from "./duration.js";
import { parseHelmSpec, type HelmSpec } from "./helm/spec.js";
import { GITSYNC } from "./names.js";

/** What to check out. Exactly one kind; `head` is the remote's default branch. */
export type GitRef =
  | { readonly kind: "branch"; readonly name: string }
  | { readonly kind: "tag"; readonly name: string }
  | { readonly kind: "commit"; readonly name: string }
  | { readonly kind: "head"; readonly name: "HEAD" };

export interface DependencyRef {
  readonly namespace: string;
  readonly name: string;
}

/** A GitSync's spec with every default filled in: the input of one sync. */
export interface GitSyncSpec {
  /** Absent only with spec.helm.chart: the chart alone, with no Git repository. */
  readonly url?: string;
  readonly ref: GitRef;
  readonly path: string;
  readonly intervalMs: number;
  readonly prune: boolean;
  readonly pruneMaxPercent: number;
  readonly selfHeal: boolean;
  readonly suspend: boolean;
  readonly targetNamespace?: string;
  readonly secretName?: string;
  /** spec.decryption is set (with or without a Secret). */
  readonly decryption?: true;
  readonly decryptionSecretName?: string;
  readonly dependsOn: readonly DependencyRef[];
  /** spec.serviceAccountName: the account of the GitSync's namespace it acts as. */
  readonly serviceAccountName?: string;
  /** What deleting the GitSync does to its objects: prune them (Delete) or leave them. */
  readonly deletionPolicy: DeletionPolicy;
  /** spec.helm: how a chart at spec.path is rendered. */
  readonly helm?: HelmSpec;
}

export type DeletionPolicy = "Delete" | "Orphan";

/** One inventory entry: an object this GitSync applied and owns. */
export interface InventoryEntry {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** status.helm: what a Helm GitSync last applied in full (digests, never values). */
export interface HelmReleaseStatus {
  readonly chart: string;
  readonly version: string;
  /** sha256:<hex> of the archive (charts from a repository). */
  readonly digest?: string;
  readonly repoURL?: string;
  readonly valuesDigest: string;
}

export interface GitSyncStatus {
  readonly helm?: HelmReleaseStatus;
  readonly observedGeneration?: number;
  readonly lastAppliedRevision?: string;
  readonly lastAttemptedRevision?: string;
  readonly lastSyncTime?: string;
  readonly inventory?: readonly InventoryEntry[];
  readonly conditions?: readonly Condition[];
}

export type GitSyncObject = KubeObject & {
  spec?: Record<string, unknown>;
  status?: GitSyncStatus;
};

const ALLOWED_URL = /^((https?|ssh|file):\/\/.+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:.+)$/;

export function gitSyncRef(namespace: string, name: string): ObjectRef {
  return { ...GITSYNC, namespace, name };
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function parseRef(value: unknown): GitRef {
  const ref = record(value);
  const set = (["branch", "tag", "commit"] as const).filter((k) => text(ref[k]) !== undefined);
  if (set.length > 1) throw new TerminalError(`spec.ref sets ${set.join(" and ")}: set only one`);
  const kind = set[0];
  if (kind === undefined) return { kind: "head", name: "HEAD" };
  return { kind, name: text(ref[kind]) ?? "" };
}

function parseDependsOn(value: unknown, namespace: string): DependencyRef[] {
  if (!Array.isArray(value)) return [];
  return value.map((item: unknown) => {
    const dep = record(item);
    const name = text(dep["name"]);
    if (name === undefined) throw new TerminalError("spec.dependsOn entries need a name");
    return { namespace: text(dep["namespace"]) ?? namespace, name };
  });
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/**
 * Reads a GitSync's spec with the CRD's defaults (the API server fills them, but an object
 * written before a default existed may lack one). Input that no retry can fix throws
 * TerminalError with a message naming the field.
 */
export function parseGitSyncSpec(obj: GitSyncObject): GitSyncSpec {
  const spec = record(obj.spec);
  const namespace = obj.metadata.namespace ?? "";
  const url = text(spec["url"]);
  const helm = helmOf(spec);
  checkSource(url, helm);
  // The CRD's pattern says the same; checked again because git would run ext:: URLs as commands.
  if (url !== undefined && !ALLOWED_URL.test(url)) {
    throw new TerminalError(
      `spec.url ${JSON.stringify(url)} must be https://, http://, ssh://, file:// or user@host:path`,
      { code: ErrorCodes.GIT_URL_INVALID },
    );
  }
  const intervalText = text(spec["interval"]) ?? "1m";
  const intervalMs = parseDuration(intervalText);
  if (intervalMs === undefined || intervalMs < 1000) {
    throw new TerminalError(`spec.interval ${JSON.stringify(intervalText)} must be at least 1s`);
  }
  const maxPercent = record(spec["pruneGuard"])["maxPercent"];
  return {
    ...optional("url", url),
    ref: parseRef(spec["ref"]),
    path: text(spec["path"]) ?? ".",
    intervalMs,
    prune: spec["prune"] !== false,
    pruneMaxPercent: typeof maxPercent === "number" ? maxPercent : 50,
    selfHeal: spec["selfHeal"] !== false,
    suspend: spec["suspend"] === true,
    ...optional("targetNamespace", text(spec["targetNamespace"])),
    ...optional("secretName", text(record(spec["secretRef"])["name"])),
    ...(spec["decryption"] === undefined ? {} : { decryption: true as const }),
    ...optional(
      "decryptionSecretName",
      text(record(record(spec["decryption"])["secretRef"])["name"]),
    ),
    dependsOn: parseDependsOn(spec["dependsOn"], namespace),
    ...tenancyOf(spec),
    ...helm,
  };
}

/** A Git repository, or a chart from a chart repository without one (then no valueFiles). */
function checkSource(url: string | undefined, { helm }: Pick<GitSyncSpec, "helm">): void {
  if (url !== undefined) return;
  if (helm?.chart === undefined) {
    throw new TerminalError("spec.url is required unless spec.helm.chart names the chart");
  }
  if (helm.valueFiles.length > 0) {
    throw new TerminalError(
      "spec.helm.valueFiles are read from spec.url's repository: set spec.url, or use values or valuesFrom",
    );
  }
}

function tenancyOf(
  spec: Record<string, unknown>,
): Pick<GitSyncSpec, "serviceAccountName" | "deletionPolicy"> {
  return {
    ...optional("serviceAccountName", text(spec["serviceAccountName"])),
    deletionPolicy: spec["deletionPolicy"] === "Orphan" ? "Orphan" : "Delete",
  };
}

function helmOf(spec: Record<string, unknown>): Pick<GitSyncSpec, "helm"> {
  const helm = parseHelmSpec(spec["helm"]);
  return helm === undefined ? {} : { helm };
}

/** A file:// URL reads the controller's own disk: refused unless --allow-file-urls. */
export function isFileUrl(url: string): boolean {
  return /^file:/i.test(url);
}

/** "main@sha1:<id>", "v1.2.0@sha1:<id>", or "sha1:<id>" for a commit or HEAD (as Flux writes it). */
export function formatRevision(ref: GitRef, commit: string): string {
  return ref.kind === "branch" || ref.kind === "tag"
    ? `${ref.name}@sha1:${commit}`
    : `sha1:${commit}`;
}

/** The commit id of a revision formatRevision wrote. */
export function commitOf(revision: string | undefined): string | undefined {
  if (revision === undefined) return undefined;
  const at = revision.lastIndexOf("sha1:");
  return at < 0 ? undefined : revision.slice(at + "sha1:".length);
}
