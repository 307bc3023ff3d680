/**
 * The denial message of the compiled policy. The API server runs ValidatingAdmissionPolicies
 * before webhooks, so this is what a denied user reads whether or not the webhook is up: it
 * says what is guarded, by which GuardPolicy, which GitSync applied the object (from the
 * reconciler's owner labels) and the break-glass command, as messages.ts does.
 */
import { formatDuration } from "../duration.js";
import type { GuardPolicy } from "../policy-types.js";
import { celString } from "./cel.js";

/** The reconciler's owner labels (src/reconciler/names.ts; components do not import each other). */
export const GITSYNC_NAME_LABEL = "gitops-guard.io/gitsync-name";
export const GITSYNC_NAMESPACE_LABEL = "gitops-guard.io/gitsync-namespace";

const SUGGESTED_WINDOW_MS = 3_600_000;

const TARGET = "(object != null ? object : oldObject)";
const LABELS = `(has(${TARGET}.metadata.labels) ? ${TARGET}.metadata.labels : {})`;
const NAMESPACE = '(has(request.namespace) ? request.namespace : "")';
const NAME = '(has(request.name) && request.name != "" ? request.name : "NAME")';

function gitSyncPart(): string {
  const label = (key: string): string => `${LABELS}[${celString(key)}]`;
  const has = `${celString(GITSYNC_NAME_LABEL)} in ${LABELS} && ${celString(GITSYNC_NAMESPACE_LABEL)} in ${LABELS}`;
  const named =
    `" It was applied by GitSync " + ${label(GITSYNC_NAMESPACE_LABEL)} + "/" + ${label(GITSYNC_NAME_LABEL)} + ` +
    `" (kubectl get gitsync -n " + ${label(GITSYNC_NAMESPACE_LABEL)} + " " + ${label(GITSYNC_NAME_LABEL)} + " shows the repository and path)."`;
  return `(${has} ? ${named} : " Make the change in the Git repository that defines it.")`;
}

function breakGlassPart(policy: GuardPolicy): string {
  const groups = policy.breakGlass.groups;
  if (groups.length === 0) return celString(" Break-glass is not enabled by this policy.");
  const window = formatDuration(Math.min(SUGGESTED_WINDOW_MS, policy.breakGlass.maxDurationMs));
  const pattern = policy.spec.breakGlass.reasonPattern;
  const intro = ` In an incident, members of ${groups.join(", ")} may break glass: gitops-guard break-glass `;
  const flags = ` --reason '<matching ${pattern}>' --for ${window}`;
  return (
    `${celString(intro)} + request.kind.kind + "/" + ${NAME} + ` +
    `(${NAMESPACE} == "" ? "" : " -n " + ${NAMESPACE}) + ${celString(flags)}`
  );
}

export function messageExpression(policy: GuardPolicy): string {
  const object = `request.kind.kind + " " + (${NAMESPACE} == "" ? "" : ${NAMESPACE} + "/") + ${NAME}`;
  return [
    `"gitops-guard: " + ${object} + ${celString(` is managed from Git (GuardPolicy ${policy.name}); `)}`,
    `request.userInfo.username + " may not change it directly."`,
    gitSyncPart(),
    breakGlassPart(policy),
  ].join(" + ");
}

/** The static message, used when messageExpression cannot be evaluated. */
export function staticMessage(policy: GuardPolicy): string {
  return (
    `gitops-guard: this object is managed from Git (GuardPolicy ${policy.name}); make the change ` +
    "in Git, or break glass with gitops-guard break-glass."
  );
}
