import type { AddressInfo } from "node:net";
import express from "express";
import { describe, expect, it } from "vitest";
import { createAuditParser } from "../../src/auditor/attribution/audit-events.js";
import {
  AUDIT_WEBHOOK_PATH,
  auditWebhookRouter,
} from "../../src/auditor/attribution/audit-webhook.js";
import type { AuditFact } from "../../src/auditor/attribution/facts.js";
import { ErrorCodes } from "../../src/errors.js";

describe("audit webhook endpoint", () => {
  it("indexes valid EventLists and refuses others without echoing them", async () => {
    const facts: AuditFact[] = [];
    const outcomes: string[] = [];
    const app = express();
    app.use(
      auditWebhookRouter({
        parse: createAuditParser(),
        onFacts: (f) => facts.push(...f),
        onBatch: (o) => outcomes.push(o),
      }),
    );
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    const post = (body: unknown): Promise<Response> =>
      fetch(`http://127.0.0.1:${String(port)}${AUDIT_WEBHOOK_PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    try {
      const ok = await post({
        apiVersion: "audit.k8s.io/v1",
        kind: "EventList",
        items: [
          {
            auditID: "1",
            stage: "ResponseComplete",
            verb: "update",
            requestReceivedTimestamp: "2026-03-01T10:00:00.000000Z",
            user: { username: "alice" },
            objectRef: { resource: "configmaps", namespace: "n", name: "c" },
            responseStatus: { code: 200 },
          },
        ],
      });
      expect(ok.status).toBe(200);
      expect(facts.map((f) => f.user.username)).toEqual(["alice"]);
      const bad = await post({ kind: "EventList", items: [{ secret: "hunter2" }] });
      expect(bad.status).toBe(400);
      const text = await bad.text();
      expect(JSON.parse(text)).toMatchObject({ code: ErrorCodes.AUDIT_EVENTS_INVALID });
      expect(text).not.toContain("hunter2");
      expect(outcomes).toEqual(["accepted", "invalid"]);
    } finally {
      server.close();
    }
  });
});
