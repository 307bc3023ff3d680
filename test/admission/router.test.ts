/**
 * The webhook's HTTP surface on a real HTTPS server on loopback: every answer is an
 * AdmissionReview the API server can read, or a JSON error when there is no uid to answer to.
 */
import { request } from "node:https";
import { afterEach, describe, expect, it } from "vitest";
import { createAdmissionCore } from "../../src/admission/core.js";
import type { Decision } from "../../src/admission/decision.js";
import { admissionMetrics } from "../../src/admission/metrics.js";
import { createAdmissionApp, type AdmissionView } from "../../src/admission/router.js";
import { REVIEW_BODY_LIMIT_BYTES } from "../../src/admission/review-listener.js";
import { startServer, type RunningServer } from "../../src/http/server.js";
import { realClock } from "../../src/runtime/clock.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics, type Metrics } from "../../src/telemetry/metrics.js";
import { makeServingCert, makeTestCa } from "../helpers/tls.js";
import { defaultPolicy, fixtureText } from "./helpers.js";

const ca = makeTestCa();
const serving = makeServingCert(ca, ["127.0.0.1"]);
let server: RunningServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Started {
  readonly url: string;
  readonly metrics: Metrics;
  readonly decisions: Decision[];
}

async function start(view: () => AdmissionView, onInternalError?: "allow"): Promise<Started> {
  const metrics = createMetrics();
  const decisions: Decision[] = [];
  const app = createAdmissionApp({
    core: createAdmissionCore(),
    view,
    clock: realClock(),
    logger: createLogger({ level: "silent" }),
    metrics,
    admission: admissionMetrics(metrics.registry),
    ...(onInternalError === undefined ? {} : { onInternalError }),
    onDecision: (d) => decisions.push(d),
  });
  server = await startServer({
    app,
    listen: "127.0.0.1:0",
    tls: serving,
    logger: createLogger({ level: "silent" }),
  });
  return { url: server.url, metrics, decisions };
}

function post(
  url: string,
  body: string,
  type = "application/json",
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/validate`,
      { method: "POST", ca: ca.cert, headers: { "Content-Type": type } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(text) as Record<string, unknown>,
          });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const policies = (): AdmissionView => ({ policies: [defaultPolicy()], context: {} });

interface Container {
  env?: { name: string; value: string }[];
}
interface PodSpec {
  containers: Container[];
}

describe("POST /validate", () => {
  it("answers a real AdmissionReview with the decision, and counts it", async () => {
    const { url, metrics, decisions } = await start(policies);
    const { status, json } = await post(
      url,
      fixtureText("08-update-deployment-kubectl-patch.json"),
    );
    expect(status).toBe(200);
    expect(json).toMatchObject({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { allowed: false, status: { code: 403, reason: "Forbidden" } },
    });
    expect(decisions.map((d) => d.reason)).toEqual(["OutOfBandChange"]);
    const text = await metrics.text();
    expect(text).toContain(
      'gitops_guard_admission_decisions_total{reason="OutOfBandChange",effect="deny"} 1',
    );
    expect(text).toMatch(/gitops_guard_admission_review_duration_seconds_count\{effect="deny"\} 1/);
  });

  it("denies a body it cannot judge when it has a uid, and answers JSON 400 when it has none", async () => {
    const { url, metrics } = await start(policies);
    const bad = await post(
      url,
      JSON.stringify({
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        request: { uid: "u-1" },
      }),
    );
    expect(bad.status).toBe(200);
    expect(bad.json["response"]).toMatchObject({
      uid: "u-1",
      allowed: false,
      status: { code: 400 },
    });
    const noUid = await post(url, "{}");
    expect(noUid).toMatchObject({ status: 400, json: { code: "GG_ADMISSION_REVIEW_INVALID" } });
    const notJson = await post(url, "{not json");
    expect(notJson).toMatchObject({ status: 400, json: { code: "GG_HTTP_400" } });
    const wrongType = await post(url, "{}", "text/plain");
    expect(wrongType.status).toBe(400);
    const huge = await post(url, JSON.stringify({ pad: "x".repeat(REVIEW_BODY_LIMIT_BYTES) }));
    expect(huge).toMatchObject({ status: 413, json: { code: "GG_HTTP_413" } });
    expect(await metrics.text()).toContain(
      'gitops_guard_admission_review_failures_total{code="GG_ADMISSION_REVIEW_INVALID"}',
    );
  });

  it("judges an UPDATE whose object and oldObject are both near etcd's 1.5 MiB limit (2.8 MB)", async () => {
    const { url, decisions } = await start(policies);
    const review = JSON.parse(fixtureText("08-update-deployment-kubectl-patch.json")) as {
      request: Record<"object" | "oldObject", { spec: { template: { spec: PodSpec } } }>;
    };
    // Legal: the API server stores objects up to 1.5 MiB, and an UPDATE's review holds both.
    const blob = "x".repeat(1_400_000);
    for (const side of ["object", "oldObject"] as const) {
      const [container] = review.request[side].spec.template.spec.containers;
      if (container !== undefined) container.env = [{ name: "BLOB", value: blob }];
    }
    const body = JSON.stringify(review);
    expect(body.length).toBeGreaterThan(2_800_000);
    const { status, json } = await post(url, body);
    expect(status).toBe(200);
    expect(json["response"]).toMatchObject({ allowed: false, status: { code: 403 } });
    expect(decisions.map((d) => d.reason)).toEqual(["OutOfBandChange"]);
  });

  it("turns an internal error into a denial with a message, or an allow with a warning when asked", async () => {
    const broken = (): AdmissionView => {
      throw new Error("informer cache exploded");
    };
    const body = fixtureText("02-create-configmap-kubectl-create.json");
    const denied = await start(broken);
    const deny = await post(denied.url, body);
    expect(deny.status).toBe(200);
    expect(deny.json["response"]).toMatchObject({
      allowed: false,
      status: { code: 500, message: expect.stringContaining("informer cache exploded") as unknown },
    });
    await server?.close();
    const allowed = await start(broken, "allow");
    const allow = await post(allowed.url, body);
    expect(allow.json["response"]).toMatchObject({
      allowed: true,
      warnings: [expect.stringContaining("internal error") as unknown],
    });
  });

  it("answers other paths with a JSON 404", async () => {
    const { url } = await start(policies);
    const other = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/nope`, { method: "GET", ca: ca.cert }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(other).toBe(404);
  });
});
