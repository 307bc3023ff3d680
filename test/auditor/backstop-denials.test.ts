/**
 * Denials by the compiled ValidatingAdmissionPolicies, from the API server's audit events: an
 * event captured from kube-apiserver 1.35 (names changed) is read, anything else is ignored and
 * never a crash, and a denial becomes one record per request and per repeat window.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileBackstop } from "../../src/admission/vap/compile.js";
import { createAuditParser } from "../../src/auditor/attribution/audit-events.js";
import {
  REPEAT_WINDOW_MS,
  VALIDATION_FAILURE_ANNOTATION,
  backstopDenialOf,
  backstopEntry,
  type AuditEventView,
  type BackstopDenial,
} from "../../src/auditor/attribution/backstop-denials.js";
import type { AuditFact } from "../../src/auditor/attribution/facts.js";
import { policyOf } from "../admission/helpers.js";

type Event = AuditEventView & Record<string, unknown>;

function captured(): Event {
  const url = new URL("./fixtures/backstop-denied.audit.json", import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")) as Event;
}

function withFailures(failures: unknown, base: Event = captured()): Event {
  const text = typeof failures === "string" ? failures : JSON.stringify(failures);
  return { ...base, annotations: { ...base.annotations, [VALIDATION_FAILURE_ANNOTATION]: text } };
}

function failure(policy: string, actions = ["Deny", "Audit"], binding = policy): object {
  return { message: "no", policy, binding, expressionIndex: 0, validationActions: actions };
}

/** Parses one EventList the way the audit webhook does: facts, and the denials told apart. */
function parse(...items: unknown[]): { facts: AuditFact[] | undefined; denials: BackstopDenial[] } {
  const denials: BackstopDenial[] = [];
  const parser = createAuditParser({ onDenial: (d) => denials.push(d) });
  const facts = parser({ apiVersion: "audit.k8s.io/v1", kind: "EventList", items });
  return { facts, denials };
}

describe("backstop denials in audit events", () => {
  it("reads the captured denial: who, what, which GuardPolicy, what it said", () => {
    const { facts, denials } = parse(captured());
    expect(denials).toEqual([
      {
        auditId: "4a2b7de9-219a-449f-87d9-840bfacc6d06",
        receivedMs: Date.parse("2026-11-23T04:26:47.967Z"),
        user: { username: "alice", groups: ["developers", "system:authenticated"] },
        operation: "UPDATE",
        apiVersion: "v1",
        resource: "configmaps",
        namespace: "shop",
        name: "web",
        guardPolicy: "shop",
        backstop: "gitops-guard-shop",
        message: expect.stringContaining("alice may not change it directly") as unknown,
      },
    ]);
    // Still an attribution fact, which attribution skips: the request failed.
    expect(facts?.map((f) => f.code)).toEqual([403]);
    const entry = backstopEntry(denials[0]!, "ConfigMap");
    expect(entry).toMatchObject({
      type: "admission-denied",
      object: { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "web" },
      user: { username: "alice" },
      diff: [],
      reason: "BackstopDenied",
      auditId: "4a2b7de9-219a-449f-87d9-840bfacc6d06",
    });
    expect(entry.message).toMatch(
      /^UPDATE denied by GuardPolicy shop \(ValidatingAdmissionPolicy gitops-guard-shop\): gitops-guard: ConfigMap shop\/web/,
    );
  });

  it("recognises what compileBackstop names, in another group and for each verb", () => {
    const { policy, binding } = compileBackstop(policyOf({}, "prod-apps"), {
      now: 0,
      ownNamespace: "gitops-guard-system",
    });
    const names = { policy: policy.metadata.name, binding: binding.metadata.name };
    const base = withFailures([{ ...failure("x"), ...names }]);
    const deployment = {
      ...base,
      objectRef: { resource: "deployments", apiGroup: "apps", apiVersion: "v1", name: "web" },
    };
    const verbs = ["create", "update", "patch", "delete", "get", "deletecollection"];
    const ops = verbs.map((verb) => backstopDenialOf({ ...deployment, verb })?.operation);
    expect(ops).toEqual(["CREATE", "UPDATE", "UPDATE", "DELETE", undefined, undefined]);
    expect(backstopDenialOf(deployment)).toMatchObject({
      guardPolicy: "prod-apps",
      apiVersion: "apps/v1",
      resource: "deployments",
    });
    expect(backstopDenialOf(deployment)?.namespace).toBeUndefined();
  });

  it("ignores requests our policies did not deny, and dry runs", () => {
    const base = captured();
    const { annotations: _annotations, ...bare } = base;
    const ignored: Event[] = [
      bare,
      withFailures([failure("require-team-label")]),
      withFailures([failure("gitops-guard-shop", ["Audit"])]),
      withFailures([failure("gitops-guard-shop", ["Deny"], "someone-elses-binding")]),
      withFailures([failure("gitops-guard-")]),
      { ...base, stage: "ResponseStarted" },
      { ...base, requestURI: `${String(base.requestURI)}&dryRun=All` },
      { ...base, requestURI: "/api/v1/namespaces/shop/configmaps?dryRun=All" },
    ];
    expect(parse(...ignored).denials).toEqual([]);
    // Someone else's failure first, ours second: ours is found.
    const both = withFailures([failure("require-team-label"), failure("gitops-guard-shop")]);
    expect(parse(both).denials.map((d) => d.guardPolicy)).toEqual(["shop"]);
  });

  it("ignores a malformed annotation without failing the batch", () => {
    const broken: Event[] = [
      withFailures("[{not json"),
      withFailures({ policy: "gitops-guard-shop" }),
      withFailures([null, 7, "x", { policy: "gitops-guard-shop", binding: "gitops-guard-shop" }]),
      withFailures([{ ...failure("gitops-guard-shop"), validationActions: "Deny" }]),
      { ...captured(), annotations: { [VALIDATION_FAILURE_ANNOTATION]: 42 } },
      { ...captured(), requestURI: "%%%?dryRun" },
    ];
    const { facts, denials } = parse(...broken);
    expect(facts).toHaveLength(broken.length);
    // Only the last one is a denial: an empty dryRun value is no dry run.
    expect(denials.map((d) => d.guardPolicy)).toEqual(["shop"]);
  });

  it("names the impersonated user, who the policy judged, and caps a long message", () => {
    const event = {
      ...withFailures([{ ...failure("gitops-guard-shop"), message: "m".repeat(5000) }]),
      impersonatedUser: { username: "bob", groups: ["incident-responders"] },
    };
    const denial = backstopDenialOf(event);
    expect(denial?.user).toEqual({ username: "bob", groups: ["incident-responders"] });
    expect(backstopEntry(denial!, "ConfigMap").message?.length).toBe(1024);
    expect(REPEAT_WINDOW_MS).toBe(10 * 60_000);
  });
});
