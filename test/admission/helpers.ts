/** Fixtures and request builders shared by the admission tests. */
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createAdmissionCore } from "../../src/admission/core.js";
import type { GuardPolicy } from "../../src/admission/policy-types.js";
import type {
  AdmissionObject,
  AdmissionRequest,
  AdmissionReviewRequest,
} from "../../src/admission/review-types.js";

export const FIXTURES_DIR = fileURLToPath(new URL("../fixtures/admission/", import.meta.url));

/** 2026-01-01T00:00:00Z */
export const NOW = Date.UTC(2026, 0, 1);
export const HOUR = 3_600_000;

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort();
}

export function fixtureText(name: string): string {
  return readFileSync(`${FIXTURES_DIR}${name}`, "utf8");
}

export const core = createAdmissionCore();

export function reviewOf(name: string): AdmissionReviewRequest {
  const parsed = core.parseReview(fixtureText(name));
  if (!parsed.ok) throw parsed.error;
  return parsed.review;
}

export function defaultPolicy(): GuardPolicy {
  const [policy] = core.policies.parseYaml(fixtureText("guardpolicy-default.yaml"));
  if (policy === undefined) throw new Error("no policy in guardpolicy-default.yaml");
  return policy;
}

/** A policy from a spec, with the default policy's name unless given. */
export function policyOf(spec: Record<string, unknown>, name = "test"): GuardPolicy {
  return core.policies.parse({
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GuardPolicy",
    metadata: { name },
    spec,
  });
}

export interface Actor {
  readonly username: string;
  readonly groups: readonly string[];
}

export const alice: Actor = { username: "alice", groups: ["developers", "system:authenticated"] };
export const bob: Actor = {
  username: "bob",
  groups: ["incident-responders", "system:authenticated"],
};
export const carol: Actor = {
  username: "carol",
  groups: ["incident-responders", "system:authenticated"],
};
export const reconciler: Actor = {
  username: "system:serviceaccount:gitops-guard-system:gitops-guard-reconciler",
  groups: ["system:serviceaccounts", "system:serviceaccounts:gitops-guard-system"],
};

export function deployment(
  annotations: Record<string, string> = {},
  extra: { replicas?: number; image?: string; finalizers?: string[]; deleting?: boolean } = {},
): AdmissionObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "web",
      namespace: "shop",
      resourceVersion: "42",
      annotations,
      ...(extra.finalizers === undefined ? {} : { finalizers: extra.finalizers }),
      ...(extra.deleting === true ? { deletionTimestamp: "2025-12-31T23:00:00Z" } : {}),
    },
    spec: {
      replicas: extra.replicas ?? 2,
      template: { spec: { containers: [{ name: "web", image: extra.image ?? "web:1" }] } },
    },
  };
}

export function glass(by: string, reason: string, expiresMs: number): Record<string, string> {
  return {
    "gitops-guard.io/break-glass": reason,
    "gitops-guard.io/break-glass-expires": iso(expiresMs),
    "gitops-guard.io/break-glass-by": by,
  };
}

export interface RequestParts {
  readonly actor: Actor;
  readonly operation?: AdmissionRequest["operation"];
  readonly object?: AdmissionObject | null;
  readonly oldObject?: AdmissionObject | null;
  readonly kind?: { group: string; version: string; kind: string };
  readonly resource?: { group: string; version: string; resource: string };
  readonly subResource?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly dryRun?: boolean;
  readonly fieldManager?: string;
}

/** An AdmissionRequest for a Deployment shop/web unless the parts say otherwise. */
function objectsOf(parts: RequestParts): Pick<AdmissionRequest, "object" | "oldObject"> {
  const operation = parts.operation ?? "UPDATE";
  const object = operation === "DELETE" ? null : deployment();
  const oldObject = operation === "CREATE" ? null : deployment();
  return {
    object: parts.object === undefined ? object : parts.object,
    oldObject: parts.oldObject === undefined ? oldObject : parts.oldObject,
  };
}

export function request(parts: RequestParts): AdmissionRequest {
  const operation = parts.operation ?? "UPDATE";
  return {
    uid: "00000000-0000-0000-0000-000000000001",
    kind: parts.kind ?? { group: "apps", version: "v1", kind: "Deployment" },
    resource: parts.resource ?? { group: "apps", version: "v1", resource: "deployments" },
    ...(parts.subResource === undefined ? {} : { subResource: parts.subResource }),
    name: parts.name ?? "web",
    namespace: parts.namespace ?? "shop",
    operation,
    userInfo: { username: parts.actor.username, groups: [...parts.actor.groups] },
    ...objectsOf(parts),
    dryRun: parts.dryRun ?? false,
    options: parts.fieldManager === undefined ? null : { fieldManager: parts.fieldManager },
  };
}
