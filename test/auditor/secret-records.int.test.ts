/**
 * secret-materialised and key-rotated records from the secrets controller's Events, on the real
 * API server: one per Secret written (none for a resync that writes nothing), one per key
 * generated (first start, on demand), and the Secret's value nowhere: journal file, logs, Events.
 */
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import { JOURNAL_FILE } from "../../src/auditor/journal/store.js";
import { formatRecord } from "../../src/cli/audit-run.js";
import { parseCertificate } from "../../src/crypto/sealing/certificate.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import {
  decoded,
  fetchCert,
  sealedSecret,
  startController,
  waitReady,
  type Controller,
} from "../secrets/harness.js";
import { startAuditor, type RunningAuditor } from "./harness.js";

const VALUE = "pw-journal-5d1f-never-journaled";
const SECRET = { apiVersion: "v1", kind: "Secret" } as const;
const admin = clientAs("admin");

/** A controller stopped when the test ends, if the test did not stop it. */
async function controller(ns: string): Promise<Controller> {
  const c = await startController(ns);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= c.stop());
  onTestFinished(stop);
  await waitReady(c);
  return { ...c, stop };
}

function ofType(auditor: RunningAuditor, type: JournalRecord["type"], ns: string): JournalRecord[] {
  return auditor.records(ns).filter((r) => r.type === type);
}

async function resynced(c: Controller): Promise<boolean> {
  return /gitops_guard_secrets_unseal_total\{result="success",reason="ok"\} [1-9]/.test(
    await c.metrics(),
  );
}

/** Everything the value could leak into, as text. */
async function everywhere(auditor: RunningAuditor, ns: string, logs: string[]): Promise<string> {
  const files = [JOURNAL_FILE, `${JOURNAL_FILE}-wal`]
    .map((f) => join(auditor.stateDir, f))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString("latin1"));
  const events = await Promise.all(
    ["v1", "events.k8s.io/v1"].map((apiVersion) =>
      admin.list({ apiVersion, kind: "Event" }, { namespace: ns }),
    ),
  );
  return [...files, ...logs, auditor.log.raw(), JSON.stringify(events)].join("\n");
}

describe("secret-materialised and key-rotated records", () => {
  it("journals each key generated and each Secret written, never a value", async () => {
    const ns = await testNamespace("ssj");
    // The controller keeps its keys in ns: for this auditor, ns is the product's namespace.
    const auditor = await startAuditor({}, ns);
    const first = await controller(ns);
    const cert = await fetchCert(first);
    const initial = parseCertificate(cert, "cert").fingerprint;
    await eventually(
      "the initial key's record",
      () => ofType(auditor, "key-rotated", ns).length > 0,
    );
    expect(ofType(auditor, "key-rotated", ns)).toMatchObject([
      {
        object: { apiVersion: "v1", kind: "Secret", namespace: ns, name: "sealing-key-initial" },
        message: expect.stringMatching(
          new RegExp(
            `^sealing key ${initial.replace(/[+/]/g, "\\$&")} generated \\(initial\\), certificate valid from \\S+Z to \\S+Z$`,
          ),
        ) as unknown,
      },
    ]);

    await admin.create(sealedSecret(cert, { namespace: ns, name: "db" }, { password: VALUE }));
    const secret = async (): Promise<string | undefined> =>
      decoded(await admin.get({ ...SECRET, namespace: ns, name: "db" }))["password"];
    await eventually("the Secret", async () => (await secret()) === VALUE);
    await eventually("its record", () => ofType(auditor, "secret-materialised", ns).length > 0);
    const uid = (await admin.get({ ...SECRET, namespace: ns, name: "db" }))?.metadata.uid;
    expect(ofType(auditor, "secret-materialised", ns)).toMatchObject([
      {
        object: { apiVersion: "v1", kind: "Secret", namespace: ns, name: "db", uid },
        fieldManagers: ["gitops-guard (Apply)"],
        message: `created from SealedSecret ${ns}/db (gitops-guard.io/v1alpha1), opened with key ${initial}`,
      },
    ]);

    // A new leader reconciles every SealedSecret and finds the Secret up to date: no record.
    await first.stop();
    const second = await controller(ns);
    await eventually("the resync", () => resynced(second));
    // A Secret deleted out of band is written again: one more record.
    await admin.delete({ ...SECRET, namespace: ns, name: "db" });
    await eventually("the Secret back", async () => (await secret()) === VALUE);
    await eventually(
      "the second record",
      () => ofType(auditor, "secret-materialised", ns).length > 1,
    );

    const rotated = await second.component.rotateKey();
    await eventually("the rotation's record", () => ofType(auditor, "key-rotated", ns).length > 1);
    // A marker: one more SealedSecret, unsealed after all of the above. The controller wrote
    // every earlier Event before it, and the auditor journals Events in the order its one Event
    // watch delivers them: with the marker's record there, any other would be too.
    await admin.create(sealedSecret(cert, { namespace: ns, name: "marker" }, { password: "m" }));
    await eventually("the marker's record", () =>
      ofType(auditor, "secret-materialised", ns).some((r) => r.object?.name === "marker"),
    );
    const written = ofType(auditor, "secret-materialised", ns).map((r) => r.object?.name);
    expect(written).toEqual(["db", "db", "marker"]);
    const keys = ofType(auditor, "key-rotated", ns);
    expect(keys).toHaveLength(2);
    expect(keys[1]?.message).toContain(`sealing key ${rotated} generated (on-demand)`);
    for (const r of auditor.records()) process.stdout.write(`audit list: ${formatRecord(r)}\n`);

    const logs = [first.logs.raw(), second.logs.raw()];
    await second.stop();
    const text = await everywhere(auditor, ns, logs);
    expect(text).toContain(`${ns}/db`);
    expect(text).not.toContain(VALUE);
    expect(text).not.toContain(Buffer.from(VALUE).toString("base64"));
  });
});
