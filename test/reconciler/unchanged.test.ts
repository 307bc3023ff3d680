// A sync skips the apply of an object only when sending it again could not change anything.
import { describe, expect, it } from "vitest";
import type { KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { applyObject, type Applier } from "../../src/reconciler/apply/apply.js";
import { sentDigest, type LastApply } from "../../src/reconciler/apply/unchanged.js";
import type { DesiredObject } from "../../src/reconciler/desired.js";
import { desiredOf, obj } from "./helpers/desired.js";

/** A client whose apply answers with resourceVersion "next" and counts the requests. */
function countingKube(): { kube: KubeClient; applies: () => number } {
  let applies = 0;
  const kube = {
    apply(body: KubeObject): Promise<KubeObject> {
      applies++;
      return Promise.resolve({ ...body, metadata: { ...body.metadata, resourceVersion: "next" } });
    },
  } as unknown as KubeClient;
  return { kube, applies: () => applies };
}

function setting(level: string): DesiredObject {
  const [desired] = desiredOf([{ ...obj("v1", "ConfigMap", "settings"), data: { level } }]);
  if (desired === undefined) throw new Error("no desired object");
  return desired;
}

interface Case {
  readonly last?: LastApply;
  /** The user the apply impersonates (Applier.actingAs). */
  readonly actingAs?: string;
  /** The watch cache's resourceVersion for the object; undefined: not in the cache. */
  readonly cachedVersion?: string;
  readonly known?: boolean;
}

async function applyWith(desired: DesiredObject, c: Case) {
  const { kube, applies } = countingKube();
  const applier: Applier = {
    kube,
    concurrency: 1,
    lastApplies: new Map(c.last === undefined ? [] : [[desired.key, c.last]]),
    known: new Set(c.known === false ? [] : [desired.key]),
    ...(c.actingAs === undefined ? {} : { actingAs: c.actingAs }),
    cached: (ref) =>
      c.cachedVersion === undefined
        ? undefined
        : {
            ...desired.object,
            metadata: {
              ...desired.object.metadata,
              uid: "u1",
              resourceVersion: c.cachedVersion,
              name: ref.name,
            },
          },
  };
  const applied = await applyObject(applier, desired);
  return { applied, applies: applies() };
}

describe("applyObject skips what cannot change", () => {
  const desired = setting("info");
  const sent = sentDigest(desired.object);

  it("sends nothing when the body is the one last sent and the object has not moved since", async () => {
    const { applied, applies } = await applyWith(desired, {
      last: { resourceVersion: "7", sent },
      cachedVersion: "7",
    });
    expect(applies).toBe(0);
    expect(applied.action).toBe("unchanged");
    expect(applied.live.metadata).toMatchObject({ resourceVersion: "7", uid: "u1" });
    expect(applied.sent).toBe(sent);
    expect(applied.skipped).toBe(true);
  });

  it("applies when someone changed the object since (another resourceVersion in the cache)", async () => {
    const { applied, applies } = await applyWith(desired, {
      last: { resourceVersion: "7", sent },
      cachedVersion: "9",
    });
    expect(applies).toBe(1);
    expect(applied.action).toBe("configured");
  });

  it("applies when Git changed the object (another body)", async () => {
    const { applies } = await applyWith(setting("debug"), {
      last: { resourceVersion: "7", sent },
      cachedVersion: "7",
    });
    expect(applies).toBe(1);
  });

  it("applies when the cache does not know the object, or nothing was applied before", async () => {
    expect((await applyWith(desired, { last: { resourceVersion: "7", sent } })).applies).toBe(1);
    expect((await applyWith(desired, { cachedVersion: "7" })).applies).toBe(1);
  });

  it("applies again when another account acts for the GitSync (its rights are tested)", async () => {
    const wide = "system:serviceaccount:team-a:wide";
    const narrow = "system:serviceaccount:team-a:narrow";
    const asWide = sentDigest(desired.object, wide);
    expect(asWide).not.toBe(sent);
    expect(asWide).not.toBe(sentDigest(desired.object, narrow));
    const same = await applyWith(desired, {
      last: { resourceVersion: "7", sent: asWide },
      cachedVersion: "7",
      actingAs: wide,
    });
    expect(same.applies).toBe(0);
    expect(same.applied.sent).toBe(asWide);
    const changed = await applyWith(desired, {
      last: { resourceVersion: "7", sent: asWide },
      cachedVersion: "7",
      actingAs: narrow,
    });
    expect(changed.applies).toBe(1);
    // From the reconciler's own identity to an account, and back, alike.
    const fromOwn = await applyWith(desired, {
      last: { resourceVersion: "7", sent },
      cachedVersion: "7",
      actingAs: narrow,
    });
    expect(fromOwn.applies).toBe(1);
    const toOwn = await applyWith(desired, {
      last: { resourceVersion: "7", sent: asWide },
      cachedVersion: "7",
    });
    expect(toOwn.applies).toBe(1);
  });

  it("applies an object new to the inventory, even with a remembered apply", async () => {
    const { applied, applies } = await applyWith(desired, {
      last: { resourceVersion: "7", sent },
      cachedVersion: "7",
      known: false,
    });
    expect(applies).toBe(1);
    expect(applied.action).toBe("created");
  });
});
