// Another team's validating webhook that refuses updates of one object: "a later admission
// step" that refuses a write gitops-guard's webhook already allowed. The API server calls both;
// the write fails, so gitops-guard's fact about it must expire without a record.
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { onTestFinished } from "vitest";
import { clientAs } from "../envtest/context.js";
import { makeServingCert, makeTestCa } from "./tls.js";

interface Review {
  request?: { uid?: string; name?: string };
}

function answer(body: string, vetoed: string): string {
  const review = JSON.parse(body) as Review;
  const allowed = review.request?.name !== vetoed;
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    response: {
      uid: review.request?.uid ?? "",
      allowed,
      ...(allowed ? {} : { status: { code: 403, message: `vetoed: ${vetoed} is frozen` } }),
    },
  });
}

/** Registers a webhook refusing every UPDATE of ConfigMap namespace/name; removed after. */
export async function vetoUpdates(namespace: string, name: string): Promise<void> {
  const ca = makeTestCa("veto CA");
  const cert = makeServingCert(ca, ["127.0.0.1"]);
  const server: Server = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(answer(body, name));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const admin = clientAs("admin");
  const config = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: `veto-${namespace}` },
    webhooks: [
      {
        name: "veto.example.com",
        clientConfig: {
          url: `https://127.0.0.1:${String(port)}/veto`,
          caBundle: Buffer.from(ca.cert).toString("base64"),
        },
        rules: [
          {
            apiGroups: [""],
            apiVersions: ["v1"],
            operations: ["UPDATE"],
            resources: ["configmaps"],
          },
        ],
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
        failurePolicy: "Fail",
        sideEffects: "None",
        admissionReviewVersions: ["v1"],
        timeoutSeconds: 5,
      },
    ],
  };
  await admin.create(config);
  onTestFinished(async () => {
    await admin.delete({
      apiVersion: config.apiVersion,
      kind: config.kind,
      name: config.metadata.name,
    });
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });
}
