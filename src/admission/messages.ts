/**
 * Denial messages that say what to do instead: where the object lives in Git, what the request
 * tried to change, and the exact break-glass command. kubectl prints the message after
 * 'admission webhook "..." denied the request:'.
 */
import type { GitLocation } from "./decision.js";
import { formatDuration } from "./duration.js";
import type { RequestFacts } from "./facts.js";
import type { GuardPolicy } from "./policy-types.js";
import { presetForFieldManager } from "../presets/reconcilers.js";

const MAX_FIELDS_SHOWN = 8;
const SUGGESTED_WINDOW_MS = 3_600_000;

export function describeObject(facts: RequestFacts): string {
  const name = facts.ref.name === "" ? "(new)" : facts.ref.name;
  const key = facts.ref.namespace === undefined ? name : `${facts.ref.namespace}/${name}`;
  const sub = facts.subresource === "" ? "" : ` (${facts.subresource})`;
  return `${facts.kind} ${key}${sub}`;
}

/** "tried to change /spec/replicas, /metadata/labels/app" or "tried to delete it". */
export function describeChange(facts: RequestFacts, fields: readonly string[]): string {
  if (facts.operation === "CREATE") return "The request creates it.";
  if (facts.operation === "DELETE") return "The request deletes it.";
  if (fields.length === 0) return "The request changes it.";
  const shown = fields.slice(0, MAX_FIELDS_SHOWN).join(", ");
  const more =
    fields.length > MAX_FIELDS_SHOWN ? ` and ${fields.length - MAX_FIELDS_SHOWN} more` : "";
  return `The request changes ${shown}${more}.`;
}

export function describeLocation(facts: RequestFacts, location: GitLocation | undefined): string {
  if (location === undefined) {
    return facts.operation === "CREATE"
      ? "Add it to Git instead: commit it to a repository that a GitSync applies."
      : "Make the change in the Git repository that defines it.";
  }
  const { gitSync, url, path, revision } = location;
  const at = revision === undefined ? "" : ` (applied at ${revision.slice(0, 12)})`;
  return (
    `Make the change in Git: file ${path} in ${url}${at}, ` +
    `applied by GitSync ${gitSync.namespace}/${gitSync.name}.`
  );
}

/** The command a responder runs; kept in step with `gitops-guard break-glass` (src/cli). */
export function breakGlassCommand(facts: RequestFacts, policy: GuardPolicy): string {
  const name = facts.ref.name === "" ? "NAME" : facts.ref.name;
  const ns = facts.ref.namespace === undefined ? "" : ` -n ${facts.ref.namespace}`;
  const windowMs = Math.min(SUGGESTED_WINDOW_MS, policy.breakGlass.maxDurationMs);
  const pattern = policy.spec.breakGlass.reasonPattern;
  return (
    `gitops-guard break-glass ${facts.kind}/${name}${ns} ` +
    `--reason '<matching ${pattern}>' --for ${formatDuration(windowMs)}`
  );
}

export function breakGlassHint(facts: RequestFacts, policy: GuardPolicy): string {
  const groups = policy.breakGlass.groups;
  if (groups.length === 0) return "Break-glass is not enabled by this policy.";
  return `In an incident, a member of ${groups.join(", ")} can run: ${breakGlassCommand(facts, policy)}`;
}

/** Field managers are not identity: say so when a request borrows a reconciler's manager. */
export function fieldManagerNote(facts: RequestFacts): string {
  const manager = facts.request.options?.fieldManager;
  if (manager === undefined) return "";
  const preset = presetForFieldManager(manager);
  if (preset === undefined) return "";
  return ` (field manager "${manager}" is ${preset.title}'s, but the request comes from ${facts.who.username}: only the identity counts)`;
}

export interface DenialParts {
  readonly facts: RequestFacts;
  readonly policy: GuardPolicy;
  readonly fields: readonly string[];
  readonly location: GitLocation | undefined;
  readonly extra?: string;
}

export function outOfBandMessage(parts: DenialParts): string {
  const { facts, policy } = parts;
  return [
    `gitops-guard: ${describeObject(facts)} is managed from Git (GuardPolicy ${policy.name}); ` +
      `${facts.who.username} may not change it directly${fieldManagerNote(facts)}.`,
    describeChange(facts, parts.fields),
    ...(parts.extra === undefined ? [] : [parts.extra]),
    describeLocation(facts, parts.location),
    breakGlassHint(facts, policy),
  ].join("\n");
}

export function plaintextSecretMessage(parts: DenialParts): string {
  const { facts, policy } = parts;
  return [
    `gitops-guard: ${describeObject(facts)} carries plaintext data (GuardPolicy ${policy.name}); ` +
      `in this namespace Secrets come only from the secrets controller or a reconciler.`,
    "Encrypt it instead (gitops-guard seal, or SOPS) and commit the SealedSecret or encrypted file.",
    describeLocation(facts, parts.location),
    breakGlassHint(facts, policy),
  ].join("\n");
}

export function breakGlassDeniedMessage(parts: DenialParts & { readonly problem: string }): string {
  const { facts, policy } = parts;
  return [
    `gitops-guard: break-glass refused for ${describeObject(facts)} (GuardPolicy ${policy.name}): ${parts.problem}.`,
    describeChange(facts, parts.fields),
    describeLocation(facts, parts.location),
    breakGlassHint(facts, policy),
  ].join("\n");
}
