/**
 * Who may read the ops port, on the real API server: /metrics and the journal answer a
 * service account's token only when the chart's reader role is bound to it (TokenReview and
 * SubjectAccessReview, asked as the chart's controller account), and keep the answers 10 s;
 * probes, the status page and kubeseal's endpoints stay open to whoever reaches the port.
 */
import { describe, expect, it } from "vitest";
import { ErrorCodes } from "../../src/errors.js";
import { bearer, serviceAccountToken, serviceAccountUser } from "../helpers/ops-access.js";
import { startGuardedOps, type GuardedOps } from "./guarded-ops.js";

const TOKEN_REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews";
const ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews";

async function get(
  ops: GuardedOps,
  path: string,
  token?: string,
): Promise<{ status: number; body: string; authenticate: string | null }> {
  const res = await fetch(
    `${ops.url}${path}`,
    token === undefined ? {} : { headers: bearer(token) },
  );
  return {
    status: res.status,
    body: await res.text(),
    authenticate: res.headers.get("www-authenticate"),
  };
}

const count = (ops: GuardedOps, path: string): number =>
  ops.reviews.filter((p) => p === path).length;

/** Nothing any caller sent may show up in what the server logged. */
function expectNoTokenLogged(ops: GuardedOps, ...more: string[]): void {
  for (const token of [...Object.values(ops.tokens), ...more]) {
    expect(ops.logs.raw()).not.toContain(token);
  }
}

describe("the ops port's readers on the real API server", () => {
  it("serves the journal to a bound journal reader and refuses everyone else", async () => {
    const ops = await startGuardedOps();
    const { reader, prometheus, nobody } = ops.tokens;
    const ok = await get(ops, "/api/v1/journal?kind=Deployment", reader);
    expect(ok.status).toBe(200);
    expect((JSON.parse(ok.body) as { items: unknown[] }).items).toHaveLength(2);

    const denied = await get(ops, "/api/v1/journal", nobody);
    expect(denied.status).toBe(403);
    const user = serviceAccountUser(ops.ns, "nobody");
    expect(JSON.parse(denied.body)).toEqual({
      code: ErrorCodes.OPS_FORBIDDEN,
      message: `user "${user}" may not get /gitops-guard/api/v1/journal`,
      user,
    });
    // Allowed /metrics, and /api/* by system:discovery, as every authenticated user is.
    expect((await get(ops, "/api/v1/journal", prometheus)).status).toBe(403);

    const none = await get(ops, "/api/v1/journal");
    expect(none.status).toBe(401);
    expect(none.authenticate).toBe('Bearer realm="gitops-guard"');
    expect(JSON.parse(none.body)).toMatchObject({ code: ErrorCodes.OPS_UNAUTHENTICATED });
    const forged = `${reader.slice(0, -4)}AAAA`;
    const bad = await get(ops, "/api/v1/journal", forged);
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.body)).toMatchObject({ code: ErrorCodes.OPS_UNAUTHENTICATED });
    // Express routes these to the journal too: they must not go around the check.
    for (const path of ["/API/V1/JOURNAL", "/api/v1/journal/", "/api/v1/journal?limit=1"]) {
      expect((await get(ops, path)).status, path).toBe(401);
    }
    expect((await get(ops, "/API/v1/Journal", reader)).status).toBe(200);
    expectNoTokenLogged(ops, forged);
  });

  it("serves /metrics to a bound scraper and refuses everyone else", async () => {
    const ops = await startGuardedOps();
    const { reader, prometheus, nobody } = ops.tokens;
    const scrape = await get(ops, "/metrics", prometheus);
    expect(scrape.status).toBe(200);
    expect(scrape.body).toContain("gitops_guard_build_info");
    expect((await get(ops, "/metrics", reader)).status).toBe(403);
    expect((await get(ops, "/metrics", nobody)).status).toBe(403);
    expect((await get(ops, "/metrics")).status).toBe(401);
    expect((await get(ops, "/metrics", "not-a-token")).status).toBe(401);
    expectNoTokenLogged(ops);
  });

  it("asks the API server once per caller and path in 10 s, allowed or not", async () => {
    const ops = await startGuardedOps();
    const fresh = await serviceAccountToken(ops.ns, "reader");
    const expectReviews = (tokens: number, access: number): void => {
      expect([count(ops, TOKEN_REVIEWS), count(ops, ACCESS_REVIEWS)]).toEqual([tokens, access]);
    };
    expect((await get(ops, "/api/v1/journal", fresh)).status).toBe(200);
    expectReviews(1, 1);
    expect((await get(ops, "/api/v1/journal?limit=1", fresh)).status).toBe(200);
    expectReviews(1, 1);
    // Another path is another question; the token's answer is kept.
    expect((await get(ops, "/metrics", fresh)).status).toBe(403);
    expectReviews(1, 2);
    expect((await get(ops, "/metrics", fresh)).status).toBe(403);
    expectReviews(1, 2);
    expect((await get(ops, "/metrics", "not-a-token")).status).toBe(401);
    expect((await get(ops, "/metrics", "not-a-token")).status).toBe(401);
    expectReviews(2, 2);

    await ops.clock.advance(9_999);
    expect((await get(ops, "/api/v1/journal", fresh)).status).toBe(200);
    expectReviews(2, 2);
    await ops.clock.advance(2);
    expect((await get(ops, "/api/v1/journal", fresh)).status).toBe(200);
    expect((await get(ops, "/metrics", "not-a-token")).status).toBe(401);
    expectReviews(4, 3);
  });

  it("leaves probes, the status page and kubeseal's endpoints to whoever reaches the port", async () => {
    const ops = await startGuardedOps();
    expect((await get(ops, "/healthz")).status).toBe(200);
    expect((await get(ops, "/readyz")).status).toBe(200);
    // A standby's page: served, not refused.
    expect((await get(ops, "/status")).status).toBe(503);
    const cert = await get(ops, "/v1/cert.pem");
    expect(cert.status).toBe(200);
    expect(cert.body).toContain("BEGIN CERTIFICATE");
    expect(ops.reviews).toEqual([]);
  });

  it("answers 503 when its own identity may not ask, without telling the caller why", async () => {
    const ops = await startGuardedOps((ns) => serviceAccountUser(ns, "nobody"));
    const res = await get(ops, "/api/v1/journal", ops.tokens.reader);
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({
      code: ErrorCodes.OPS_AUTH_UNAVAILABLE,
      message: "cannot check the caller with the Kubernetes API server now; try again",
    });
    const warning = ops.logs.lines().find((l) => l["msg"] === "cannot check an ops reader");
    expect(String(warning?.["err"])).toMatch(/tokenreviews.*403 Forbidden/);
    expectNoTokenLogged(ops);
  });
});
