/**
 * GuardPolicy parsing: ajv against guardpolicy-schema.ts (defaults filled in), then the rules a
 * JSON Schema cannot state (duration bounds, regular expressions, selector operators), then the
 * derived, frozen GuardPolicy that decide() reads. Every problem names its field.
 */
import { Ajv, type ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";
import { ErrorCodes, GuardError, errorMessage } from "../errors.js";
import { formatDuration, parseDuration } from "./duration.js";
import { GUARD_POLICY_SCHEMA } from "./guardpolicy-schema.js";
import type {
  GuardPolicy,
  GuardPolicyDocument,
  IdentityList,
  LabelSelector,
  ReconcilerList,
} from "./policy-types.js";
import { RECONCILER_PRESETS } from "../presets/reconcilers.js";
import { describeErrors } from "./schema-errors.js";
import { SYSTEM_GROUPS, SYSTEM_USERS } from "./system.js";

/** Longer windows are not "break glass" any more; the CRD states the same bound in CEL. */
export const MAX_BREAK_GLASS_MS = 24 * 3_600_000;

export interface PolicyParser {
  /** A GuardPolicy object (parsed YAML/JSON, or read from the API server). Throws GG_POLICY_INVALID. */
  parse(document: unknown): GuardPolicy;
  /** One or more GuardPolicy documents in YAML; throws GG_POLICY_INVALID naming the document. */
  parseYaml(text: string): GuardPolicy[];
}

export function createPolicyParser(): PolicyParser {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: true });
  const validate = ajv.compile<GuardPolicyDocument>(GUARD_POLICY_SCHEMA);
  const parse = (document: unknown): GuardPolicy => parseWith(validate, document);
  return {
    parse,
    parseYaml: (text) => parseYamlWith(parse, text),
  };
}

function invalid(name: string | undefined, problems: readonly string[]): GuardError {
  const who = name === undefined ? "GuardPolicy" : `GuardPolicy "${name}"`;
  return new GuardError(ErrorCodes.POLICY_INVALID, `${who}: ${problems.join("; ")}`, {
    details: { policy: name, problems },
  });
}

function nameOf(document: unknown): string | undefined {
  if (typeof document !== "object" || document === null) return undefined;
  const metadata = (document as { metadata?: unknown }).metadata;
  if (typeof metadata !== "object" || metadata === null) return undefined;
  const name = (metadata as { name?: unknown }).name;
  return typeof name === "string" ? name : undefined;
}

function parseWith(
  validate: ValidateFunction<GuardPolicyDocument>,
  document: unknown,
): GuardPolicy {
  const name = nameOf(document);
  let copy: unknown;
  try {
    // ajv writes defaults into what it validates: never into the caller's object.
    copy = structuredClone(document);
  } catch (err: unknown) {
    throw invalid(name, [`not plain data: ${errorMessage(err)}`]);
  }
  if (!validate(copy)) throw invalid(name, describeErrors(validate.errors ?? []));
  const problems = semanticProblems(copy);
  if (problems.length > 0) throw invalid(name, problems);
  return derive(copy);
}

function semanticProblems(doc: GuardPolicyDocument): string[] {
  const problems: string[] = [];
  const { maxDuration, reasonPattern } = doc.spec.breakGlass;
  const ms = parseDuration(maxDuration);
  if (ms === undefined || ms <= 0 || ms > MAX_BREAK_GLASS_MS) {
    problems.push(
      `spec.breakGlass.maxDuration "${maxDuration}" must be more than 0s and at most ${formatDuration(MAX_BREAK_GLASS_MS)}`,
    );
  }
  try {
    new RegExp(reasonPattern, "u");
  } catch (err: unknown) {
    problems.push(
      `spec.breakGlass.reasonPattern ${JSON.stringify(reasonPattern)} must be a regular expression (${errorMessage(err)})`,
    );
  }
  const selector = doc.spec.match.namespaceSelector;
  if (selector !== undefined) problems.push(...selectorProblems(selector));
  return problems;
}

function selectorProblems(selector: LabelSelector): string[] {
  return (selector.matchExpressions ?? []).flatMap((req, i) => {
    const field = `spec.match.namespaceSelector.matchExpressions[${i}].values`;
    const count = req.values?.length ?? 0;
    const needsValues = req.operator === "In" || req.operator === "NotIn";
    if (needsValues && count === 0) return [`${field} must not be empty for ${req.operator}`];
    if (!needsValues && count > 0) return [`${field} must be empty for ${req.operator}`];
    return [];
  });
}

function union(...lists: (readonly string[])[]): readonly string[] {
  return [...new Set(lists.flat())];
}

function withPresets(reconcilers: ReconcilerList): IdentityList {
  const presetAccounts = reconcilers.presets.flatMap((p) => RECONCILER_PRESETS[p].serviceAccounts);
  return {
    users: reconcilers.users,
    groups: reconcilers.groups,
    serviceAccounts: union(reconcilers.serviceAccounts, presetAccounts),
  };
}

function withSystem(exemptions: IdentityList): IdentityList {
  return {
    users: union(SYSTEM_USERS, exemptions.users),
    groups: union(SYSTEM_GROUPS, exemptions.groups),
    serviceAccounts: exemptions.serviceAccounts,
  };
}

function derive(doc: GuardPolicyDocument): GuardPolicy {
  const { spec } = doc;
  const policy: GuardPolicy = {
    name: doc.metadata.name,
    ...(doc.metadata.generation === undefined ? {} : { generation: doc.metadata.generation }),
    spec,
    reconcilers: withPresets(spec.reconcilers),
    exemptions: withSystem(spec.exemptions),
    breakGlass: {
      groups: spec.breakGlass.groups,
      maxDurationMs: parseDuration(spec.breakGlass.maxDuration) ?? 0,
      reasonPattern: new RegExp(spec.breakGlass.reasonPattern, "u"),
    },
  };
  return deepFreeze(policy);
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || value instanceof RegExp) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}

function inDocument(n: number, problems: readonly string[], cause?: unknown): GuardError {
  return new GuardError(ErrorCodes.POLICY_INVALID, `document ${n}: ${problems.join("; ")}`, {
    cause,
    details: { document: n, problems },
  });
}

function parseYamlWith(parse: (doc: unknown) => GuardPolicy, text: string): GuardPolicy[] {
  const policies: GuardPolicy[] = [];
  for (const [i, doc] of parseAllDocuments(text).entries()) {
    if (doc.errors.length > 0)
      throw inDocument(
        i + 1,
        doc.errors.map((e) => e.message),
      );
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    try {
      policies.push(parse(value));
    } catch (err: unknown) {
      throw inDocument(i + 1, [errorMessage(err)], err);
    }
  }
  return policies;
}
