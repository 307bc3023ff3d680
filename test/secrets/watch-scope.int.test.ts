/**
 * What the secrets controller watches of Secrets (issue 15): the Secrets it owns with their
 * data, only the changes of every other one, as metadata. An owned Secret stays restored
 * however it is changed (its label removed included), no other Secret's value is held, and a
 * Secret written before the label existed gets it on its SealedSecret's next reconcile.
 */
import { describe, expect, it } from "vitest";
import { FIELD_MANAGER } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { realClock } from "../../src/runtime/clock.js";
import { OWNED_LABEL, OWNED_VALUE } from "../../src/secrets/names.js";
import { secretWatches } from "../../src/secrets/secret-watches.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { decoded, fetchCert, readyController, sealedSecret } from "./harness.js";

const PASSWORD = "pw-scope-4be1-never-logged";
const OTHER_VALUE = "unrelated-9d0c-never-held";
const SS = { apiVersion: "gitops-guard.io/v1alpha1", kind: "SealedSecret" } as const;
const SECRET = { apiVersion: "v1", kind: "Secret" } as const;
const admin = clientAs("admin");

const getSecret = (namespace: string, name: string): Promise<KubeObject | undefined> =>
  admin.get({ ...SECRET, namespace, name });

/** The Secret holds the SealedSecret's value and the owned label. */
async function restored(namespace: string, name: string): Promise<boolean> {
  const secret = await getSecret(namespace, name);
  return (
    secret?.metadata.labels?.[OWNED_LABEL] === OWNED_VALUE &&
    decoded(secret)["password"] === PASSWORD &&
    decoded(secret)["extra"] === undefined
  );
}

async function synced(namespace: string, name: string): Promise<boolean> {
  const ss = await admin.get({ ...SS, namespace, name });
  const conditions = (ss?.["status"] as { conditions?: { type: string; status: string }[] })
    .conditions;
  return conditions?.some((c) => c.type === "Synced" && c.status === "True") ?? false;
}

/** An unrelated Secret as `kubectl apply` leaves it: its value in an annotation too. */
function appliedSecret(namespace: string, name: string, value: string): KubeObject {
  const data = { token: Buffer.from(value).toString("base64") };
  const lastApplied = JSON.stringify({ ...SECRET, metadata: { name, namespace }, data });
  return {
    ...SECRET,
    metadata: {
      name,
      namespace,
      labels: { app: "other" },
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": lastApplied },
    },
    data,
  };
}

/**
 * What an earlier version applied: the same Secret without the label. Applied by the same
 * field manager, it takes the label away, as that manager no longer sets it.
 */
function asEarlierVersionWrote(written: KubeObject): KubeObject {
  const { name, namespace, labels, annotations, ownerReferences } = written.metadata;
  const { [OWNED_LABEL]: _, ...rest } = labels ?? {};
  return {
    ...SECRET,
    metadata: {
      ...(name === undefined ? {} : { name }),
      ...(namespace === undefined ? {} : { namespace }),
      labels: rest,
      annotations: annotations ?? {},
      ownerReferences: ownerReferences ?? [],
    },
    type: written["type"],
    data: written["data"],
  };
}

describe("the Secrets the SealedSecret controller watches", () => {
  it("restores an owned Secret that is edited, stripped of its label, or deleted", async () => {
    const ns = await testNamespace("scope");
    const c = await readyController(ns);
    await admin.create(
      sealedSecret(await fetchCert(c), { namespace: ns, name: "db" }, { password: PASSWORD }),
    );
    await eventually("the Secret, labelled", () => restored(ns, "db"));
    const ref = { ...SECRET, namespace: ns, name: "db" };
    const hijacked = Buffer.from("hijacked").toString("base64");

    // The label removed and the value changed in one write: the owned watch sees it leave.
    await admin.mergePatch(ref, {
      metadata: { labels: { [OWNED_LABEL]: null } },
      data: { password: hijacked, extra: "eA==" },
    });
    await eventually("the unlabelled edit undone", () => restored(ns, "db"));
    // The label alone removed, then set to another value.
    await admin.mergePatch(ref, { metadata: { labels: { [OWNED_LABEL]: null } } });
    await eventually("the label back", () => restored(ns, "db"));
    await admin.mergePatch(ref, { metadata: { labels: { [OWNED_LABEL]: "someone-else" } } });
    await eventually("the label's value back", () => restored(ns, "db"));
    // A plain edit, and a deletion.
    await admin.mergePatch(ref, { data: { password: hijacked } });
    await eventually("the edit undone", () => restored(ns, "db"));
    const uid = (await getSecret(ns, "db"))?.metadata.uid;
    await admin.delete(ref);
    await eventually(
      "the deletion undone",
      async () => (await getSecret(ns, "db"))?.metadata.uid !== uid && (await restored(ns, "db")),
    );
    const said = c.logs.raw();
    for (const value of [PASSWORD, Buffer.from(PASSWORD).toString("base64")])
      expect(said).not.toContain(value);
  });

  it("never holds the data of a Secret it does not own, and sees its changes as metadata", async () => {
    const ns = await testNamespace("scope");
    await admin.create(appliedSecret(ns, "before", OTHER_VALUE));
    const watches = secretWatches({
      client: clientAs("secrets"),
      clock: realClock(),
      keyNamespace: ns,
      watchNamespace: ns,
      onError: () => undefined,
    });
    // What the change watch hands over (the controller maps each to a key and drops it).
    const seen: KubeObject[] = [];
    watches.others.onChange((secret) => seen.push(secret));
    const seenNames = (): string[] => seen.map((o) => o.metadata.name ?? "");
    watches.start();
    try {
      await watches.waitForSync();
      await admin.create(appliedSecret(ns, "after", OTHER_VALUE));
      await admin.mergePatch(
        { ...SECRET, namespace: ns, name: "before" },
        { data: { more: Buffer.from(OTHER_VALUE).toString("base64") } },
      );
      await admin.create({
        ...appliedSecret(ns, "was-owned", OTHER_VALUE),
        metadata: { name: "was-owned", namespace: ns, labels: { [OWNED_LABEL]: OWNED_VALUE } },
      });
      await eventually(
        "the labelled Secret cached with its data",
        () => watches.owned.get("was-owned", ns)?.["data"] !== undefined,
      );
      expect(seenNames()).not.toContain("was-owned");
      await admin.mergePatch(
        { ...SECRET, namespace: ns, name: "was-owned" },
        { metadata: { labels: { [OWNED_LABEL]: null } } },
      );
      await eventually("every change seen", () => {
        const names = seenNames();
        return (
          ["after", "before", "was-owned"].every((n) => names.includes(n)) &&
          watches.owned.get("was-owned", ns) === undefined
        );
      });
      // Metadata only on the wire: no event carried a value in data.
      expect(seen.every((o) => o["data"] === undefined)).toBe(true);
      // Nothing cached holds a Secret that is not the controller's.
      const held = JSON.stringify([...watches.keys, watches.owned].map((i) => i.list()));
      expect(held).not.toContain(OTHER_VALUE);
      expect(held).not.toContain(Buffer.from(OTHER_VALUE).toString("base64"));
      for (const name of ["before", "after", "was-owned"])
        expect(watches.owned.get(name, ns)).toBeUndefined();
      // A reconcile that needs one reads it whole from the API server, and keeps nothing.
      expect(decoded(await watches.live("before", ns))["token"]).toBe(OTHER_VALUE);
      expect(await watches.live("absent", ns)).toBeUndefined();
      expect(watches.owned.get("before", ns)).toBeUndefined();
    } finally {
      await watches.stop();
    }
  });

  it("labels a Secret written by an earlier version on its SealedSecret's next reconcile", async () => {
    const ns = await testNamespace("scope");
    const first = await readyController(ns);
    const created = await admin.create(
      sealedSecret(
        await fetchCert(first),
        { namespace: ns, name: "legacy" },
        { password: PASSWORD },
      ),
    );
    await eventually("the Secret", () => restored(ns, "legacy"));
    await first.stop();

    const written = await getSecret(ns, "legacy");
    if (written === undefined) throw new Error("no Secret legacy");
    const earlier = await admin.apply<KubeObject>(asEarlierVersionWrote(written), {
      fieldManager: FIELD_MANAGER,
    });
    expect(earlier.metadata.labels?.[OWNED_LABEL]).toBeUndefined();
    expect(decoded(earlier)["password"]).toBe(PASSWORD);

    await readyController(ns);
    await eventually("the label set by the upgraded controller", () => restored(ns, "legacy"));
    const upgraded = await getSecret(ns, "legacy");
    // The same Secret, still owned by its SealedSecret: nothing orphaned, nothing recreated.
    expect(upgraded?.metadata.uid).toBe(written.metadata.uid);
    expect(upgraded?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "SealedSecret", name: "legacy", uid: created.metadata.uid }),
    ]);
    await eventually("Synced=True", () => synced(ns, "legacy"));
  });
});
