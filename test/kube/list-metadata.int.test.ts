import { describe, expect, it } from "vitest";
import { clientAs, testNamespace } from "../envtest/context.js";

describe("list with metadataOnly", () => {
  it("brings Secrets' metadata and labels, and none of their data", async () => {
    const ns = await testNamespace("list-meta");
    const kube = clientAs("admin");
    const value = Buffer.from("metadata-only-must-not-carry-this").toString("base64");
    await kube.create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "k", namespace: ns, labels: { role: "key" } },
      data: { "tls.key": value },
    });
    const { items } = await kube.list(
      { apiVersion: "v1", kind: "Secret" },
      { namespace: ns, labelSelector: "role=key", metadataOnly: true },
    );
    expect(items.map((i) => i.metadata.name)).toEqual(["k"]);
    expect(items[0]?.metadata.labels).toEqual({ role: "key" });
    expect(items[0]?.metadata.creationTimestamp).toBeTruthy();
    expect(JSON.stringify(items)).not.toContain(value);
    expect(items[0]).not.toHaveProperty("data");
  });
});
