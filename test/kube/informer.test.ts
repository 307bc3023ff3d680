import { PassThrough } from "node:stream";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import type { KubeClient } from "../../src/kube/client.js";
import { Informer } from "../../src/kube/informer.js";
import type { KubeObject } from "../../src/kube/objects.js";
import type { ResourceInfo } from "../../src/kube/paths.js";
import type { RestRequest } from "../../src/kube/rest.js";
import { realClock } from "../../src/runtime/clock.js";

const CM = { apiVersion: "v1", kind: "ConfigMap" } as const;
const RESOURCE: ResourceInfo = { ...CM, plural: "configmaps", namespaced: true };

/** A ConfigMap as the API server sends it: with a field set in managedFields. */
function cm(name: string, rv: string, value: string): KubeObject {
  return {
    ...CM,
    metadata: {
      name,
      namespace: "ns",
      resourceVersion: rv,
      managedFields: [{ manager: "m", time: "t", fieldsV1: { "f:data": { "f:value": {} } } }],
    },
    data: { value },
  };
}

/**
 * A client whose list answers listed, whose first watch streams events and ends, and whose
 * later watches stay open until the informer stops.
 */
function fakeClient(listed: readonly KubeObject[], events: readonly object[]): KubeClient {
  let watches = 0;
  const stream = (req: RestRequest): Promise<PassThrough> => {
    const res = new PassThrough();
    if (watches++ === 0) res.end(events.map((e) => `${JSON.stringify(e)}\n`).join(""));
    else req.signal?.addEventListener("abort", () => res.end());
    return Promise.resolve(res);
  };
  const fake = {
    list: () =>
      Promise.resolve({ items: listed.map((o) => structuredClone(o)), resourceVersion: "1" }),
    resource: () => Promise.resolve(RESOURCE),
    rest: { stream },
  };
  return fake as unknown as KubeClient;
}

/** Drops managedFields and marks the object, so a test can tell transformed objects apart. */
function strip(obj: KubeObject): KubeObject {
  const { managedFields: _gone, ...metadata } = obj.metadata;
  return { ...obj, metadata: { ...metadata, labels: { transformed: "yes" } } };
}

const transformed = (o: KubeObject | undefined): boolean =>
  o?.metadata.labels?.["transformed"] === "yes" && o.metadata.managedFields === undefined;

describe("informer transform", () => {
  it("transforms what it caches and what its handlers get, listed and watched alike", async () => {
    const client = fakeClient(
      [cm("listed", "1", "0")],
      [
        { type: "ADDED", object: cm("watched", "2", "1") },
        { type: "MODIFIED", object: cm("watched", "3", "2") },
        { type: "DELETED", object: cm("listed", "4", "0") },
      ],
    );
    const informer = new Informer({ client, type: CM, clock: realClock(), transform: strip });
    const handed: { event: string; obj: KubeObject; old: KubeObject | undefined }[] = [];
    for (const event of ["add", "update", "delete"] as const)
      informer.on(event, (obj, old) => handed.push({ event, obj, old }));
    informer.start();
    onTestFinished(() => informer.stop());
    await informer.waitForSync();
    await vi.waitFor(() => {
      expect(handed).toHaveLength(4);
    });

    expect(handed.map((h) => `${h.event} ${h.obj.metadata.name ?? ""}`)).toEqual([
      "add listed",
      "add watched",
      "update watched",
      "delete listed",
    ]);
    expect(handed.every((h) => transformed(h.obj))).toBe(true);
    expect(transformed(handed[2]?.old)).toBe(true);
    const cached = informer.get("watched", "ns");
    expect(transformed(cached)).toBe(true);
    expect(cached?.["data"]).toEqual({ value: "2" });
    expect(cached?.metadata.resourceVersion).toBe("3");
    expect(informer.list().map((o) => o.metadata.name)).toEqual(["watched"]);
  });

  it("caches objects as they come without a transform", async () => {
    const client = fakeClient([cm("listed", "1", "0")], []);
    const informer = new Informer({ client, type: CM, clock: realClock() });
    informer.start();
    onTestFinished(() => informer.stop());
    await informer.waitForSync();
    expect(informer.get("listed", "ns")).toEqual(cm("listed", "1", "0"));
  });
});
