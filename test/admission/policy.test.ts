/** GuardPolicy parsing: defaults, built-in exemptions, presets, and errors that name the field. */
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration, parseRfc3339 } from "../../src/admission/duration.js";
import { RECONCILER_PRESETS, presetForFieldManager } from "../../src/presets/reconcilers.js";
import { ErrorCodes, isGuardError } from "../../src/errors.js";
import { core, defaultPolicy, policyOf } from "./helpers.js";

function problemsOf(spec: unknown, metadata: unknown = { name: "p" }): string[] {
  try {
    core.policies.parse({
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GuardPolicy",
      metadata,
      spec,
    });
  } catch (err: unknown) {
    if (!isGuardError(err, ErrorCodes.POLICY_INVALID)) throw err;
    return err.details["problems"] as string[];
  }
  throw new Error("expected GG_POLICY_INVALID");
}

describe("defaults", () => {
  it("fills every field of an empty spec with a safe value", () => {
    const p = policyOf({});
    expect(p.spec).toEqual({
      mode: "Enforce",
      match: {},
      reconcilers: { presets: ["gitops-guard"], users: [], groups: [], serviceAccounts: [] },
      exemptions: { users: [], groups: [], serviceAccounts: [] },
      breakGlass: { groups: [], maxDuration: "4h", reasonPattern: "\\S" },
      ignoreFields: [],
      secrets: {
        denyPlaintext: false,
        writers: {
          users: [],
          groups: [],
          serviceAccounts: ["gitops-guard-system/gitops-guard-secrets"],
        },
      },
      alerts: [],
    });
    expect(p.breakGlass.maxDurationMs).toBe(4 * 3_600_000);
    expect(p.reconcilers.serviceAccounts).toEqual(["gitops-guard-system/gitops-guard-reconciler"]);
  });

  it("fills defaults inside lists", () => {
    const p = policyOf({
      match: { resources: [{ kinds: ["Deployment"] }] },
      ignoreFields: [{ kinds: ["Deployment"], jsonPointers: ["/spec/replicas"] }],
    });
    expect(p.spec.match.resources).toEqual([
      { apiGroups: ["*"], kinds: ["Deployment"], subresources: [] },
    ]);
    expect(p.spec.ignoreFields[0]?.apiGroups).toEqual(["*"]);
  });

  it("always adds the built-in system exemptions", () => {
    const p = policyOf({ exemptions: { users: ["ops-bot"], groups: ["ops"] } });
    expect(p.exemptions.users).toEqual([
      "system:kube-scheduler",
      "system:kube-controller-manager",
      "system:apiserver",
      "ops-bot",
    ]);
    expect(p.exemptions.groups).toEqual([
      "system:nodes",
      "system:serviceaccounts:kube-system",
      "ops",
    ]);
    expect(p.exemptions.groups).not.toContain("system:masters");
  });

  it("expands reconciler presets into service accounts", () => {
    const p = policyOf({
      reconcilers: { presets: ["argocd", "flux"], serviceAccounts: ["team-a/deployer"] },
    });
    expect(p.reconcilers.serviceAccounts).toEqual([
      "team-a/deployer",
      "argocd/argocd-application-controller",
      "flux-system/kustomize-controller",
      "flux-system/helm-controller",
    ]);
  });

  it("returns a frozen policy and leaves its input alone", () => {
    const input = {
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GuardPolicy",
      metadata: { name: "x" },
      spec: {},
    };
    const p = core.policies.parse(input);
    expect(input.spec).toEqual({});
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.spec.breakGlass)).toBe(true);
  });

  it("reads the DESIGN.md policy", () => {
    const p = defaultPolicy();
    expect(p).toMatchObject({
      name: "default",
      spec: { mode: "Enforce", secrets: { denyPlaintext: true } },
    });
    expect(p.breakGlass.reasonPattern.test("INC-1234")).toBe(true);
  });
});

describe("errors name the field", () => {
  it.each([
    [
      { breakGlass: { maxDuration: "4x" } },
      'spec.breakGlass.maxDuration "4x" must be a duration like 30m or 4h',
    ],
    [
      { breakGlass: { maxDuration: "48h" } },
      'spec.breakGlass.maxDuration "48h" must be more than 0s and at most 24h',
    ],
    [
      { breakGlass: { maxDuration: "0s" } },
      'spec.breakGlass.maxDuration "0s" must be more than 0s and at most 24h',
    ],
    [
      { breakGlass: { reasonPattern: "(INC" } },
      'spec.breakGlass.reasonPattern "(INC" must be a regular expression',
    ],
    [
      { breakGlass: { groups: "responders" } },
      'spec.breakGlass.groups must be array, not "responders"',
    ],
    [{ mode: "Enforcing" }, 'spec.mode "Enforcing" must be one of Enforce, Audit'],
    [{ breakglass: {} }, "spec.breakglass is not a known field"],
    [
      { reconcilers: { serviceAccounts: ["argocd"] } },
      'spec.reconcilers.serviceAccounts[0] "argocd" must be NAMESPACE/NAME of a service account',
    ],
    [
      { reconcilers: { presets: ["rancher"] } },
      'spec.reconcilers.presets[0] "rancher" must be one of gitops-guard, argocd, flux',
    ],
    [
      { match: { resources: [{ apiGroups: ["apps"] }] } },
      "spec.match.resources[0].kinds is required",
    ],
    [{ match: { resources: [] } }, "spec.match.resources must NOT have fewer than 1 items"],
    [
      { match: { resources: [{ kinds: ["deploy ment"] }] } },
      'spec.match.resources[0].kinds[0] "deploy ment" must be a Kind',
    ],
    [
      { ignoreFields: [{ kinds: ["Deployment"], jsonPointers: ["spec/replicas"] }] },
      'spec.ignoreFields[0].jsonPointers[0] "spec/replicas" must be a JSON pointer such as "/spec/replicas"',
    ],
    [
      { secrets: { denyPlaintext: "yes" } },
      'spec.secrets.denyPlaintext must be boolean, not "yes"',
    ],
    [
      { alerts: [{ type: "pagerduty" }] },
      'spec.alerts[0].type "pagerduty" must be one of slack, alertmanager, webhook',
    ],
    [
      { alerts: [{ type: "slack", url: "ftp://x" }] },
      'spec.alerts[0].url "ftp://x" must be an http(s) URL',
    ],
    [
      { match: { namespaceSelector: { matchExpressions: [{ key: "team", operator: "In" }] } } },
      "spec.match.namespaceSelector.matchExpressions[0].values must not be empty for In",
    ],
    [
      { match: { namespaceSelector: { matchLabels: { team: 7 } } } },
      "spec.match.namespaceSelector.matchLabels.team must be string, not 7",
    ],
  ])("%j", (spec, problem) => {
    expect(problemsOf(spec).join("\n")).toContain(problem);
  });

  it("names the policy and lists every problem at once", () => {
    let message = "";
    try {
      policyOf({ mode: "x", breakGlass: { maxDuration: "4x" } }, "prod");
    } catch (err: unknown) {
      message = err instanceof Error ? err.message : "";
    }
    expect(message).toMatch(/^GuardPolicy "prod": /);
    expect(message).toContain("spec.mode");
    expect(message).toContain("spec.breakGlass.maxDuration");
  });

  it("checks the envelope", () => {
    expect(problemsOf({}, {})).toContain("metadata.name is required");
    expect(problemsOf(undefined)).toContain("spec is required");
    expect(() => core.policies.parse({ kind: "GuardPolicy" })).toThrow(/apiVersion is required/);
    expect(() => core.policies.parse("spec: {}")).toThrow(/must be object/);
  });
});

describe("YAML files", () => {
  it("reads several documents and skips empty ones", () => {
    const text = [
      "apiVersion: gitops-guard.io/v1alpha1\nkind: GuardPolicy\nmetadata: {name: a}\nspec: {}",
      "",
      "apiVersion: gitops-guard.io/v1alpha1\nkind: GuardPolicy\nmetadata: {name: b}\nspec: {mode: Audit}",
    ].join("\n---\n");
    expect(core.policies.parseYaml(text).map((p) => [p.name, p.spec.mode])).toEqual([
      ["a", "Enforce"],
      ["b", "Audit"],
    ]);
  });

  it("reports a YAML error with the document number", () => {
    const head = "apiVersion: gitops-guard.io/v1alpha1\nkind: GuardPolicy\nmetadata: {name: a}\n";
    expect(() => core.policies.parseYaml(`${head}spec: {}\n---\nspec: [unclosed`)).toThrow(
      /^document 2: /,
    );
    expect(() => core.policies.parseYaml(`${head}spec: {mode: On}`)).toThrow(
      /^document 1: GuardPolicy "a": spec.mode "On" must be one of Enforce, Audit/,
    );
  });
});

describe("durations and times", () => {
  it.each([
    ["30m", 1_800_000],
    ["4h", 14_400_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["250ms", 250],
  ])("%s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  it.each(["", "4", "4x", "h", "-1h", "1h 30m", "1e3s"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("reads RFC 3339 only", () => {
    expect(parseRfc3339("2026-01-01T01:00:00Z")).toBe(Date.UTC(2026, 0, 1, 1));
    expect(parseRfc3339("2026-01-01T02:00:00.123456789+01:00")).toBe(
      Date.UTC(2026, 0, 1, 1, 0, 0, 123),
    );
    expect(parseRfc3339("2026-01-01")).toBeUndefined();
    expect(parseRfc3339("tomorrow")).toBeUndefined();
    expect(parseRfc3339("2026-13-45T99:00:00Z")).toBeUndefined();
  });
});

describe("presets", () => {
  it("know each reconciler's field managers, as evidence only", () => {
    expect(presetForFieldManager("argocd-controller")?.name).toBe("argocd");
    expect(presetForFieldManager("kustomize-controller")?.name).toBe("flux");
    expect(presetForFieldManager("gitops-guard")?.name).toBe("gitops-guard");
    expect(presetForFieldManager("kubectl-edit")).toBeUndefined();
    expect(RECONCILER_PRESETS.argocd.serviceAccounts).not.toContain("argocd/argocd-server");
  });
});
