import express from "express";
import { describe, expect, it, onTestFinished } from "vitest";
import { startServer } from "../../src/http/server.js";
import { createLogger } from "../../src/telemetry/log.js";
import { makeServingCert, makeTestCa } from "../helpers/tls.js";
import { clientAs, eventually, testNamespace } from "./context.js";
import { registerValidatingWebhook } from "./webhook.js";

interface Review {
  request: {
    uid: string;
    userInfo: { username: string };
    object?: { metadata?: { labels?: Record<string, string> } };
  };
}

describe("the envtest harness registers a loopback webhook the real API server calls", () => {
  it("routes admission of ConfigMaps in the test namespace to an HTTPS server on 127.0.0.1", async () => {
    const ns = await testNamespace("hook");
    const ca = makeTestCa();
    const serving = makeServingCert(ca, ["127.0.0.1"]);
    const calls: string[] = [];
    const app = express();
    app.use(express.json());
    app.post("/validate", (req, res) => {
      const review = req.body as Review;
      const user = review.request.userInfo.username;
      calls.push(user);
      const deny = review.request.object?.metadata?.labels?.["deny"] === "yes";
      res.json({
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        response: {
          uid: review.request.uid,
          allowed: !deny,
          status: deny ? { code: 403, message: `denied by test webhook: ${user}` } : undefined,
        },
      });
    });
    const server = await startServer({
      app,
      listen: "127.0.0.1:0",
      tls: serving,
      logger: createLogger({ level: "silent" }),
    });
    onTestFinished(() => server.close());
    await registerValidatingWebhook({
      name: `test-${ns}`,
      url: `${server.url}/validate`,
      caCert: ca.cert,
      namespaces: [ns],
      rules: [
        {
          apiGroups: [""],
          apiVersions: ["v1"],
          resources: ["configmaps"],
          operations: ["CREATE", "UPDATE"],
        },
      ],
    });
    const alice = clientAs("alice");
    const cm = (name: string, deny: string): Parameters<typeof alice.apply>[0] => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: ns, labels: { deny } },
    });
    // The API server picks up a new webhook configuration asynchronously.
    await eventually("the webhook to be called", async () => {
      await alice.apply(cm(`probe-${String(calls.length)}`, "no"));
      return calls.includes("alice");
    });
    await expect(alice.apply(cm("blocked", "yes"))).rejects.toThrow(
      /denied by test webhook: alice/,
    );
    expect(
      await clientAs("admin").get({
        apiVersion: "v1",
        kind: "ConfigMap",
        namespace: ns,
        name: "blocked",
      }),
    ).toBeUndefined();
  });
});
