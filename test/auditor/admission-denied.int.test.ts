/**
 * admission-denied records from the webhook's denial Events, on the real API server: one per
 * attempt however often it is retried, none for a dry run, and exactly once across an auditor
 * restart (an Event written while no auditor ran is caught up).
 */
import { describe, expect, it } from "vitest";
import { formatRecord } from "../../src/cli/audit-run.js";
import {
  GUARD_DEPLOYMENTS,
  createPolicy,
  deployment,
  kubectl,
  readyOf,
  startAdmission,
} from "../admission/harness.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import {
  denials,
  denyEvents,
  lastingJournalPath,
  startAuditor,
  type RunningAuditor,
} from "./harness.js";

/** alice's label edit, retried until the webhook (registered asynchronously) denies it. */
async function aliceDenied(ns: string, label: string, dryRun = false): Promise<void> {
  const args = ["label", "deployment/web", "-n", ns, label];
  await eventually(`alice's ${label} to be denied`, async () => {
    const result = await kubectl("alice", dryRun ? [...args, "--dry-run=server"] : args);
    return result.code !== 0 && result.stderr.includes("managed from Git");
  });
}

/** Records or Events of alice's tries, without the markers' (labels mark-*). */
function tries<T extends object>(items: readonly T[]): T[] {
  return items.filter((i) => !JSON.stringify(i).includes("/metadata/labels/mark-"));
}

/** alice's denied marker edit (label key=value, a key of its own), once journaled. */
async function markerJournaled(auditor: RunningAuditor, ns: string, label: string): Promise<void> {
  await aliceDenied(ns, label);
  const path = `/metadata/labels/${label.split("=")[0] ?? ""}`;
  await eventually(`the marker ${label}'s record`, () =>
    denials(auditor, ns).some((r) => r.diff?.[0]?.path === path),
  );
}

describe("admission-denied records", () => {
  it("journals alice's denied edit once however often she retries, never a dry run, once across restarts", async () => {
    const ns = await testNamespace("denied");
    const journalPath = lastingJournalPath("denied-journal-");
    const first = await startAuditor({ journalPath });
    // The webhook alone: the compiled policy (backstop) would deny first, and then the webhook
    // never hears of the request.
    await startAdmission(ns, { backstop: false });
    const policy = await createPolicy(ns, GUARD_DEPLOYMENTS);
    await eventually(
      "the policy to be Ready",
      async () => (await readyOf(policy))?.["status"] === "True",
    );
    await clientAs("reconciler").apply(deployment(ns));

    await aliceDenied(ns, "tried=dry-run", true);
    for (let i = 0; i < 5; i++) await aliceDenied(ns, "edited=by-alice");
    await eventually("the denial's record", () => denials(first, ns).length > 0);
    // A marker denial (another field: no repeat). The webhook writes a denial's Event as it
    // answers, so a repeat's Event precedes the marker's, and the auditor journals Events as
    // its one Event watch delivers them: with the marker journaled, a repeat would be too.
    await markerJournaled(first, ns, "mark-a=1");
    const records = tries(denials(first, ns));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      object: { apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name: "web" },
      user: { username: "alice", groups: expect.arrayContaining(["developers"]) as unknown },
      diff: [{ path: "/metadata/labels/edited", op: "replace" }],
      reason: "OutOfBandChange",
      message: `UPDATE denied by GuardPolicy ${policy}`,
    });
    expect(tries(await denyEvents(ns))).toHaveLength(1);
    process.stdout.write(`audit list: ${formatRecord(records[0]!)}\n`);

    // While no auditor runs, alice tries something else; the next auditor journals that, and
    // not the first denial again.
    await first.stop();
    await aliceDenied(ns, "second=try");
    await eventually("the second Deny Event", async () => tries(await denyEvents(ns)).length === 2);
    const second = await startAuditor({ journalPath });
    await eventually("the second denial's record", () => tries(denials(second, ns)).length >= 2);
    // The Events written while it was down came in its first list; the marker's comes later, on
    // the same watch: with it journaled, a second record of the first denial would be too.
    await markerJournaled(second, ns, "mark-b=1");
    expect(tries(denials(second, ns)).map((r) => r.diff?.[0]?.path)).toEqual([
      "/metadata/labels/edited",
      "/metadata/labels/second",
    ]);
    expect(JSON.stringify(second.records())).not.toContain("/metadata/labels/tried");
  });
});
