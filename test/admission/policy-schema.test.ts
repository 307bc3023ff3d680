/**
 * The GuardPolicy CRD (what the API server enforces) and the ajv schema (what the webhook and
 * the standalone mode enforce) must state the same fields, types, bounds and defaults.
 */
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { formatDuration } from "../../src/admission/duration.js";
import { GUARD_POLICY_SPEC_SCHEMA } from "../../src/admission/guardpolicy-schema.js";
import { MAX_BREAK_GLASS_MS } from "../../src/admission/policy.js";
import { fixtureText, policyOf } from "./helpers.js";

const CRD_PATH = new URL("../../crds/guardpolicies.gitops-guard.io.yaml", import.meta.url);

type Schema = Record<string, unknown>;

function crd(): Schema {
  return parse(readFileSync(CRD_PATH, "utf8")) as Schema;
}

function crdVersion(): Schema {
  const spec = crd()["spec"] as { versions: Schema[] };
  expect(spec.versions).toHaveLength(1);
  return spec.versions[0]!;
}

function crdSpecSchema(): Schema {
  const open = (crdVersion()["schema"] as { openAPIV3Schema: { properties: Schema } })
    .openAPIV3Schema;
  return open.properties["spec"] as Schema;
}

/** Keywords both sides must agree on; documentation and dialect-specific ones are dropped. */
const COMPARED = [
  "type",
  "enum",
  "pattern",
  "default",
  "minItems",
  "maxItems",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
];

function normalize(schema: unknown): unknown {
  if (typeof schema !== "object" || schema === null) return schema;
  const s = schema as Schema;
  const out: Schema = {};
  for (const key of COMPARED) if (key in s) out[key] = s[key];
  if (Array.isArray(s["required"])) out["required"] = [...(s["required"] as string[])].sort();
  if (typeof s["properties"] === "object" && s["properties"] !== null) {
    out["properties"] = Object.fromEntries(
      Object.entries(s["properties"] as Schema).map(([k, v]) => [k, normalize(v)]),
    );
  }
  if ("items" in s) out["items"] = normalize(s["items"]);
  // false is ajv's "unknown field" check; a CRD prunes unknown fields instead.
  if (typeof s["additionalProperties"] === "object") {
    out["additionalProperties"] = normalize(s["additionalProperties"]);
  }
  return out;
}

function paths(schema: unknown, prefix = "spec"): string[] {
  const s = schema as Schema;
  const props = (s["properties"] ?? {}) as Schema;
  const below = Object.entries(props).flatMap(([k, v]) => [
    `${prefix}.${k}`,
    ...paths(v, `${prefix}.${k}`),
  ]);
  return "items" in s ? [...below, ...paths(s["items"], `${prefix}[]`)] : below;
}

describe("GuardPolicy CRD", () => {
  it("is cluster-scoped gitops-guard.io/v1alpha1 with a status subresource", () => {
    const doc = crd() as { spec: Schema; metadata: Schema };
    expect(doc.metadata["name"]).toBe("guardpolicies.gitops-guard.io");
    expect(doc.spec).toMatchObject({
      group: "gitops-guard.io",
      scope: "Cluster",
      names: { kind: "GuardPolicy" },
    });
    expect(crdVersion()).toMatchObject({
      name: "v1alpha1",
      served: true,
      storage: true,
      subresources: { status: {} },
    });
  });

  it("has exactly the ajv schema's fields", () => {
    expect(paths(crdSpecSchema()).sort()).toEqual(paths(GUARD_POLICY_SPEC_SCHEMA).sort());
  });

  it("agrees with the ajv schema on types, bounds, patterns, enums, required and defaults", () => {
    expect(normalize(crdSpecSchema())).toEqual(normalize(GUARD_POLICY_SPEC_SCHEMA));
  });

  it("bounds maxDuration in CEL with the same limit as the code", () => {
    const breakGlass = (crdSpecSchema()["properties"] as Record<string, Schema>)["breakGlass"]!;
    const maxDuration = (breakGlass["properties"] as Record<string, Schema>)["maxDuration"]!;
    const [rule] = maxDuration["x-kubernetes-validations"] as { rule: string }[];
    expect(formatDuration(MAX_BREAK_GLASS_MS)).toBe("24h");
    expect(rule?.rule).toBe("duration(self) > duration('0s') && duration(self) <= duration('24h')");
  });

  it("defaults an empty spec exactly as the parser does", () => {
    const ajv = new Ajv({ useDefaults: true, strict: false });
    const validate = ajv.compile(crdSpecSchema());
    const spec = {};
    expect(validate(spec)).toBe(true);
    expect(spec).toEqual(JSON.parse(JSON.stringify(policyOf({}).spec)));
  });

  it("accepts the DESIGN.md policy", () => {
    const ajv = new Ajv({ strict: false });
    const doc = parse(fixtureText("guardpolicy-default.yaml")) as { spec: unknown };
    expect(ajv.validate(crdSpecSchema(), doc.spec)).toBe(true);
  });
});
