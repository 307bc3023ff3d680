import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import {
  covers,
  driftedPaths,
  lastManager,
  withoutPointers,
} from "../../src/reconciler/selfheal/drift.js";
import { driftedVerdict } from "../../src/reconciler/selfheal/drift-report.js";
import { FightTracker } from "../../src/reconciler/selfheal/fights.js";
import {
  breakGlassUntil,
  ignoredPointers,
  parseIgnoreRules,
  scaledByHpa,
} from "../../src/reconciler/selfheal/policy.js";
import { forSelfHeal } from "../../src/reconciler/selfheal/watches.js";

const desired: KubeObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "ns", labels: { app: "web" }, annotations: { team: "a" } },
  spec: {
    replicas: 2,
    template: {
      spec: { containers: [{ name: "app", image: "app:1", ports: [{ containerPort: 80 }] }] },
    },
  },
};

function live(patch: { replicas?: number; image?: string; team?: string } = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "web",
      namespace: "ns",
      labels: { app: "web", extra: "x" },
      annotations: { team: patch.team ?? "a", "deployment.kubernetes.io/revision": "1" },
    },
    spec: {
      replicas: patch.replicas ?? 2,
      progressDeadlineSeconds: 600,
      template: {
        spec: {
          containers: [
            {
              name: "app",
              image: patch.image ?? "app:1",
              imagePullPolicy: "IfNotPresent",
              ports: [{ containerPort: "80", protocol: "TCP" }],
            },
          ],
        },
      },
    },
    status: { replicas: 0 },
  };
}

describe("drift", () => {
  it("sees only fields Git sets, element by element in lists", () => {
    expect(driftedPaths(desired, live())).toEqual([]);
    expect(driftedPaths(desired, live({ replicas: 3, image: "app:2", team: "b" }))).toEqual([
      "/spec/replicas",
      "/spec/template/spec/containers/0/image",
      "/metadata/annotations/team",
    ]);
  });

  it("compares a Secret's stringData with the stored data", () => {
    const secret: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      stringData: { k: "v" },
    };
    const stored = {
      ...secret,
      stringData: undefined,
      data: { k: Buffer.from("v").toString("base64") },
    };
    expect(driftedPaths(secret, stored)).toEqual([]);
    expect(driftedPaths(secret, { ...stored, data: { k: "eA==" } })).toEqual(["/data/k"]);
  });

  it("drops ignored fields from what is applied", () => {
    const body = withoutPointers(desired, ["/spec/replicas", "/metadata/annotations/team"]);
    expect((body["spec"] as Record<string, unknown>)["replicas"]).toBeUndefined();
    expect(body.metadata.annotations).toEqual({});
    expect(covers("/spec/replicas", "/spec/replicas")).toBe(true);
    expect(covers("/spec/template", "/spec/template/spec/containers/0/image")).toBe(true);
    expect(covers("/spec/replicas", "/spec/replicasX")).toBe(false);
  });

  it("names the manager of the latest change; ours loses a tie", () => {
    const at = (manager: string, time: string, subresource?: string): object =>
      subresource === undefined ? { manager, time } : { manager, time, subresource };
    const obj = (...entries: object[]): KubeObject => ({
      ...desired,
      metadata: { ...desired.metadata, managedFields: entries },
    });
    expect(
      lastManager(
        obj(at("gitops-guard", "2026-01-01T00:00:01Z"), at("kubectl-edit", "2026-01-01T00:00:00Z")),
      ),
    ).toBe("gitops-guard");
    expect(
      lastManager(
        obj(at("gitops-guard", "2026-01-01T00:00:01Z"), at("kubectl-edit", "2026-01-01T00:00:01Z")),
      ),
    ).toBe("kubectl-edit");
    expect(
      lastManager(
        obj(
          at("gitops-guard", "2026-01-01T00:00:01Z"),
          at("kcm", "2026-01-01T00:00:05Z", "status"),
        ),
      ),
    ).toBe("gitops-guard");
    expect(
      lastManager(
        obj(at("gitops-guard", "2026-01-01T00:00:01Z"), at("hpa", "2026-01-01T00:00:05Z", "scale")),
      ),
    ).toBe("hpa");
  });

  it("still sees the latest field manager once the watch cache drops the field sets", () => {
    const entry = (manager: string, time: string, subresource?: string): object => ({
      manager,
      operation: manager === "gitops-guard" ? "Apply" : "Update",
      apiVersion: "apps/v1",
      time,
      fieldsType: "FieldsV1",
      fieldsV1: { "f:spec": { "f:replicas": {}, "f:template": { "f:spec": {} } } },
      ...(subresource === undefined ? {} : { subresource }),
    });
    const cases = [
      [
        entry("gitops-guard", "2026-01-01T00:00:01Z"),
        entry("kubectl-edit", "2026-01-01T00:00:00Z"),
      ],
      [
        entry("gitops-guard", "2026-01-01T00:00:01Z"),
        entry("kubectl-edit", "2026-01-01T00:00:01Z"),
      ],
      [
        entry("gitops-guard", "2026-01-01T00:00:01Z"),
        entry("kcm", "2026-01-01T00:00:05Z", "status"),
      ],
      [
        entry("gitops-guard", "2026-01-01T00:00:01Z"),
        entry("hpa", "2026-01-01T00:00:05Z", "scale"),
      ],
    ];
    for (const entries of cases) {
      const full = (): KubeObject => live({ replicas: 3 });
      const before = { ...full(), metadata: { ...full().metadata, managedFields: entries } };
      const after = forSelfHeal(structuredClone(before));
      expect(lastManager(after)).toBe(lastManager(before));
      expect(after.metadata.managedFields?.some((e) => "fieldsV1" in e)).toBe(false);
      // Drift is read from the rest of the object, which the transform leaves as it was.
      expect(driftedPaths(desired, after)).toEqual(driftedPaths(desired, before));
      expect({ ...after, metadata: { ...after.metadata, managedFields: [] } }).toEqual({
        ...before,
        metadata: { ...before.metadata, managedFields: [] },
      });
    }
    const plain = live();
    expect(forSelfHeal(plain)).toEqual(live());
  });
});

describe("policy", () => {
  it("matches ignoreFields rules by group and kind", () => {
    const rules = parseIgnoreRules({
      ignoreFields: [
        { apiGroups: ["apps"], kinds: ["Deployment"], jsonPointers: ["/spec/replicas"] },
        { kinds: ["*"], jsonPointers: ["/metadata/annotations/x"] },
        "junk",
      ],
    });
    expect(ignoredPointers(rules, desired)).toEqual(["/spec/replicas", "/metadata/annotations/x"]);
    expect(ignoredPointers(rules, { apiVersion: "v1", kind: "ConfigMap" })).toEqual([
      "/metadata/annotations/x",
    ]);
  });

  it("finds an HPA that targets the object", () => {
    const hpa = (kind: string, name: string, namespace = "ns"): KubeObject => ({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "h", namespace },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind, name } },
    });
    expect(scaledByHpa([hpa("Deployment", "web")], desired)).toBe(true);
    expect(scaledByHpa([hpa("Deployment", "other"), hpa("StatefulSet", "web")], desired)).toBe(
      false,
    );
    expect(scaledByHpa([hpa("Deployment", "web", "elsewhere")], desired)).toBe(false);
  });

  it("reads an active break-glass from both annotations", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    const with_ = (annotations: Record<string, string>): KubeObject => ({
      ...desired,
      metadata: { annotations },
    });
    const expires = "2026-01-01T00:30:00Z";
    expect(
      breakGlassUntil(
        with_({
          "gitops-guard.io/break-glass": "INC-1",
          "gitops-guard.io/break-glass-expires": expires,
        }),
        now,
      ),
    ).toBe(Date.parse(expires));
    expect(
      breakGlassUntil(
        with_({
          "gitops-guard.io/break-glass": "INC-1",
          "gitops-guard.io/break-glass-expires": "2025-12-31T23:00:00Z",
        }),
        now,
      ),
    ).toBeUndefined();
    expect(
      breakGlassUntil(with_({ "gitops-guard.io/break-glass-expires": expires }), now),
    ).toBeUndefined();
    expect(
      breakGlassUntil(
        with_({
          "gitops-guard.io/break-glass": "INC-1",
          "gitops-guard.io/break-glass-expires": "soon",
        }),
        now,
      ),
    ).toBeUndefined();
    expect(breakGlassUntil(undefined, now)).toBeUndefined();
  });
});

describe("heal loops", () => {
  const settings = { threshold: 3, windowMs: 60_000, backoffMs: 2_000, capMs: 300_000 };

  it("backs off, doubling up to the cap, against the same manager only", () => {
    const f = new FightTracker(settings);
    let now = 0;
    for (let i = 0; i < 2; i++) f.healed("k", "hpa", (now += 100));
    expect(f.delay("k", "hpa", now)).toBe(0);
    f.healed("k", "hpa", (now += 100));
    expect(f.fightWith("k", "hpa", now)).toBe("hpa");
    expect(f.delay("k", "hpa", now)).toBe(2_000);
    expect(f.delay("k", "someone-else", now)).toBe(0);
    f.healed("k", "hpa", (now += 2_000));
    expect(f.delay("k", "hpa", now)).toBe(4_000);
    for (let i = 0; i < 20; i++) f.healed("k", "hpa", (now += f.delay("k", "hpa", now) + 1));
    expect(f.delay("k", "hpa", now)).toBe(300_000);
    expect(f.streak("k", now)).toBe(24);
  });

  it("forgets a fight once the other manager stays quiet, and is not fooled by spaced edits", () => {
    const f = new FightTracker(settings);
    for (const t of [0, 100, 200]) f.healed("k", "hpa", t);
    expect(f.fightWith("k", "hpa", 300)).toBe("hpa");
    expect(f.fightWith("k", "hpa", 200 + 60_001)).toBeUndefined();
    const g = new FightTracker(settings);
    for (const t of [0, 50_000, 100_000, 150_000]) g.healed("k", "kubectl-edit", t);
    expect(g.fightWith("k", "kubectl-edit", 150_000)).toBeUndefined();
  });
});

describe("Drifted condition", () => {
  it("is False without notes, and names the most pressing reason first", () => {
    expect(driftedVerdict(new Map())).toMatchObject({ status: "False", reason: "InSync" });
    const verdict = driftedVerdict(
      new Map([
        ["a", { reason: "SelfHealDisabled" as const, message: "b: off" }],
        ["b", { reason: "HealLoop" as const, message: "a: loop with other-controller" }],
      ]),
    );
    expect(verdict).toMatchObject({ status: "True", reason: "HealLoop" });
    expect(verdict.message).toBe("a: loop with other-controller; b: off");
  });
});
