/**
 * 100,000 malformed or mutated AdmissionReview bodies through parse -> decide -> respond:
 * nothing may throw, and a body that fails to parse is never allowed. Seeded, so a failure
 * reproduces: FUZZ_SEED=<seed printed on failure> npx vitest run test/admission/fuzz.test.ts
 */
import { describe, expect, it } from "vitest";
import type { GitLocation } from "../../src/admission/decision.js";
import type { ReviewResult } from "../../src/admission/core.js";
import { ErrorCodes } from "../../src/errors.js";
import {
  HOUR,
  NOW,
  core,
  defaultPolicy,
  deployment,
  fixtureNames,
  fixtureText,
  glass,
  policyOf,
  request,
  bob,
} from "./helpers.js";
import { Rng, damageText, mutate, type Json } from "./fuzz-mutations.js";

const BODIES = 100_000;
const SEED = Number(process.env["FUZZ_SEED"] ?? 0x67_67_67);
const PARSE_ERRORS = new Set<string>([
  ErrorCodes.ADMISSION_REVIEW_NOT_JSON,
  ErrorCodes.ADMISSION_REVIEW_INVALID,
  ErrorCodes.ADMISSION_REVIEW_UNSUPPORTED_VERSION,
]);

function corpus(): Json[] {
  const fixtures = fixtureNames().map((name) => JSON.parse(fixtureText(name)) as Json);
  const envelope = (req: unknown): Json =>
    JSON.parse(
      JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: req }),
    ) as Json;
  const mark = glass("bob", "INC-9", NOW + HOUR);
  return [
    ...fixtures,
    envelope(
      request({
        actor: bob,
        oldObject: deployment(),
        object: deployment(mark, { image: "web:9" }),
      }),
    ),
    envelope(request({ actor: bob, oldObject: deployment(mark), object: deployment() })),
  ];
}

const guardEverything = policyOf(
  {
    match: { resources: [{ kinds: ["*"], subresources: ["scale", "status"] }] },
    breakGlass: { groups: ["incident-responders"], reasonPattern: "^INC-[0-9]+$" },
    ignoreFields: [{ kinds: ["*"], jsonPointers: ["/spec/replicas"] }],
    secrets: { denyPlaintext: true },
  },
  "everything",
);
const location: GitLocation = {
  gitSync: { namespace: "apps", name: "all" },
  url: "https://git.example/x.git",
  path: "all.yaml",
};
const context = {
  locate: () => location,
  namespaceLabels: (ns: string) => ({ team: ns }),
};

interface Tally {
  parseErrors: number;
  allowed: number;
  denied: number;
  internalErrors: number;
  viaText: number;
}

/** The invariants, checked without expect() in the hot loop; returns a failure or undefined. */
function check(result: ReviewResult, tally: Tally): string | undefined {
  if (result.httpStatus === 400) {
    tally.parseErrors++;
    return PARSE_ERRORS.has(result.error.code) ? undefined : `HTTP 400 with ${result.error.code}`;
  }
  const { response } = result.body;
  if (result.error !== undefined && PARSE_ERRORS.has(result.error.code)) {
    tally.parseErrors++;
    return response.allowed ? `allowed after parse error ${result.error.code}` : undefined;
  }
  if (response.allowed) tally.allowed++;
  else tally.denied++;
  if (result.error !== undefined) {
    tally.internalErrors++;
    return undefined;
  }
  const expected = result.decision?.effect !== "deny";
  return response.allowed === expected ? undefined : "response.allowed differs from the decision";
}

describe("fuzz: parse + decide", () => {
  it(`survives ${BODIES.toLocaleString("en")} malformed or mutated bodies (seed ${SEED})`, () => {
    const rng = new Rng(SEED);
    const seeds = corpus();
    const policySets = [[defaultPolicy()], [guardEverything, defaultPolicy()]];
    const tally: Tally = { parseErrors: 0, allowed: 0, denied: 0, internalErrors: 0, viaText: 0 };
    const started = performance.now();
    for (let i = 0; i < BODIES; i++) {
      const mutated = mutate(rng, rng.pick(seeds));
      const asText = rng.chance(0.35);
      const body = asText ? maybeDamaged(rng, JSON.stringify(mutated)) : mutated;
      if (asText) tally.viaText++;
      const policies = rng.pick(policySets);
      let result: ReviewResult;
      try {
        result = core.review(body, policies, NOW, rng.chance(0.5) ? context : {});
      } catch (err: unknown) {
        const message = `body ${i} (FUZZ_SEED=${SEED}) threw: ${String(err)}\n${preview(body)}`;
        throw new Error(message, { cause: err });
      }
      const failure = check(result, tally);
      if (failure !== undefined) {
        throw new Error(`body ${i} (FUZZ_SEED=${SEED}): ${failure}\n${preview(body)}`);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `fuzz: ${BODIES} bodies in ${seconds.toFixed(1)} s, seed ${SEED}: ${JSON.stringify(tally)}`,
    );
    expect(tally.parseErrors).toBeGreaterThan(BODIES / 10);
    expect(tally.allowed + tally.denied).toBeGreaterThan(BODIES / 10);
  }, 120_000);
});

function maybeDamaged(rng: Rng, text: string): string {
  return rng.chance(0.5) ? damageText(rng, text) : text;
}

function preview(body: unknown): string {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return text.length > 2000 ? `${text.slice(0, 2000)}...` : text;
}
