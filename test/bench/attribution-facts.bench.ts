// What the attribution facts cost a write: 1,000 real API server writes by an exempt admin (each
// allowed, each a fact) with no admission, with the webhook and its facts off, and with them on,
// on one control plane, in alternating rounds so drift in the machine's speed hits every arm.
// A fact leaves after the answer is sent (a burst about one object shares an Event); the goal
// (issue 16) is the write's added latency unchanged within 0.1 ms at the median. Two layouts:
// every write to one ConfigMap (the best case: a burst shares Events), and writes spread over
// SPREAD ConfigMaps in turn (each object's writes are further apart than the batching window, so
// every write is an Event of its own: the worst case).
import { parseAdmissionFacts } from "../../src/auditor/attribution/admission-events.js";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import { startControlPlane, type ControlPlaneInfo } from "../envtest/control-plane.js";
import { aliceDeniedBy, NS, setUp, startWebhook, until, VWC, writes } from "./admission-writes.js";
import { fmt, median } from "./stats.js";

const ROUNDS = 5;
const SPREAD = 200;
const LAYOUTS = [1, SPREAD] as const;
const PER_ROUND = 200;
const WARM = 30;
const ARMS = ["no admission", "webhook, facts off", "webhook, facts on"] as const;
type Arm = (typeof ARMS)[number];
const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** The webhook's fact Events in the namespace, and the facts they carry (a burst shares one). */
async function factCount(admin: KubeClient): Promise<{ events: number; facts: number }> {
  const { items } = await admin.list(
    { apiVersion: "events.k8s.io/v1", kind: "Event" },
    { namespace: NS },
  );
  const exempt = items.filter((e) => e["reason"] === "Exempt");
  return {
    events: exempt.length,
    facts: exempt.reduce((n, e) => n + parseAdmissionFacts(e).length, 0),
  };
}

/** One round of one arm: the webhook (if any) started, warmed up, PER_ROUND writes timed. */
async function round(
  info: ControlPlaneInfo,
  admin: KubeClient,
  arm: Arm,
  at: { from: number; spread: number },
): Promise<number[]> {
  const { from, spread } = at;
  if (arm === "no admission") {
    await writes(admin, WARM, from, spread);
    return writes(admin, PER_ROUND, from + WARM, spread);
  }
  const webhook = startWebhook(info, false, arm === "webhook, facts on");
  try {
    await until("the webhook to deny alice", () =>
      aliceDeniedBy(info, 'admission webhook "validate.gitops-guard.io"'),
    );
    await writes(admin, WARM, from, spread);
    return await writes(admin, PER_ROUND, from + WARM, spread);
  } finally {
    await webhook.stop();
    await admin.delete({ ...VWC, name: "gg-bench" });
  }
}

function report(spread: number, times: Map<Arm, number[]>, roundMedians: Map<Arm, number[]>): void {
  const base = median(times.get("no admission") ?? []);
  const where = spread === 1 ? "one ConfigMap" : `${String(spread)} ConfigMaps in turn`;
  out(
    `exempt admin's merge patches to ${where}, ${String(ROUNDS)} rounds of ${String(PER_ROUND)} per arm:`,
  );
  for (const arm of ARMS) {
    const all = times.get(arm) ?? [];
    const per = roundMedians.get(arm) ?? [];
    out(
      `  ${arm.padEnd(20)} median ${fmt(median(all), 3)} ms (round medians ${fmt(Math.min(...per), 3)}-${fmt(Math.max(...per), 3)}), ` +
        `added ${fmt(median(all) - base, 3)} ms, ratio to no admission ${fmt(median(all) / base, 3)}`,
    );
  }
  const cost =
    median(times.get("webhook, facts on") ?? []) - median(times.get("webhook, facts off") ?? []);
  out(
    `  goal: facts add <= 0.1 ms at the median: ${Math.abs(cost) <= 0.1 ? "met" : "NOT met"} (${fmt(cost, 3)} ms)`,
  );
}

/** Every arm ROUNDS times for one layout, in rotating order; prints the figures. */
async function measure(
  info: ControlPlaneInfo,
  admin: KubeClient,
  spread: number,
  from: number,
): Promise<number> {
  const times = new Map<Arm, number[]>(ARMS.map((a) => [a, []]));
  const roundMedians = new Map<Arm, number[]>(ARMS.map((a) => [a, []]));
  const factsBefore = await factCount(admin);
  let next = from;
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the order, so no arm always runs first or last in a round.
    const order = ARMS.map((_, i) => ARMS[(i + r) % ARMS.length] as Arm);
    for (const arm of order) {
      const t = await round(info, admin, arm, { from: next, spread });
      next += PER_ROUND + WARM;
      times.get(arm)?.push(...t);
      roundMedians.get(arm)?.push(median(t));
    }
    out(`  round ${String(r + 1)} of ${String(ROUNDS)} done`);
  }
  const after = await factCount(admin);
  report(spread, times, roundMedians);
  out(
    `  facts: ${String(after.facts - factsBefore.facts)} in ${String(after.events - factsBefore.events)} Events ` +
      `for ${String(ROUNDS * (PER_ROUND + WARM))} writes with facts on`,
  );
  return next;
}

const cp = await startControlPlane();
try {
  const admin = createKubeClient({ kubeconfig: cp.info.kubeconfigs.admin });
  await setUp(cp.info, admin, SPREAD);
  let from = 0;
  for (const spread of LAYOUTS) from = await measure(cp.info, admin, spread, from);
} finally {
  await cp.stop();
}
