// The guard loop: first sync, alice denied, bob's break-glass admitted, the drift journaled and
// alerted, then healed when the break-glass expires.
import { errorMessage } from "../../src/errors.js";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import type { ControlPlaneInfo } from "../envtest/control-plane.js";
import type { AlertSink } from "./alert-sink.js";
import { cli } from "./cli.js";
import { configMapData, gitSync, guardPolicy, readySync, secret, SYSTEM_NS } from "./cluster.js";
import { until, type Narrator } from "./narrate.js";

export interface GuardContext {
  readonly info: ControlPlaneInfo;
  readonly admin: KubeClient;
  readonly opsUrl: string;
  /** A kubeconfig whose token may read the journal API. */
  readonly reader: string;
  readonly repoDir: string;
  readonly sink: AlertSink;
  readonly out: Narrator;
}

/** How long bob's break-glass lasts: long enough to see, short enough to watch it expire. */
const BREAK_GLASS_FOR = "20s";

const settings = (data: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "settings", namespace: "shop" },
  data,
});

export async function firstSync(c: GuardContext, ageKey: string): Promise<void> {
  c.out.step("A GuardPolicy guards the shop; a GitSync points at the example repository");
  // What a platform admin would `kubectl apply --server-side`: so the journal names kubectl.
  const asKubectl = { fieldManager: "kubectl" };
  await c.admin.apply(
    secret("gitops-guard-alerts", SYSTEM_NS, { "hmac-key": c.sink.hmacKey }),
    asKubectl,
  );
  await c.admin.apply(secret("sops-age", SYSTEM_NS, { "demo.agekey": ageKey }), asKubectl);
  await c.admin.apply(guardPolicy(c.sink.url), asKubectl);
  await c.admin.apply(gitSync(c.repoDir), asKubectl);
  const ready = await until("the first sync", () => readySync(c.admin));
  c.out.say(
    `synced ${ready.lastAppliedRevision ?? "?"}: ${String(ready.inventory?.length ?? 0)} objects applied by the reconciler (examples/shop)`,
  );
  c.out.result("first sync", `Ready, ${String(ready.inventory?.length ?? 0)} objects`);
}

export async function aliceDenied(c: GuardContext): Promise<void> {
  c.out.step("alice (group developers) edits the ConfigMap out of band, as kubectl edit would");
  const alice = createKubeClient({ kubeconfig: c.info.kubeconfigs.alice });
  // A dry run reaches the webhook too: wait until the webhook guards the ConfigMap...
  await until("the webhook to guard the ConfigMap", async () => {
    try {
      await alice.apply(settings({ checkout: "disabled" }), {
        fieldManager: "kubectl-edit",
        force: true,
        dryRun: true,
      });
      return undefined;
    } catch {
      return true;
    }
  });
  // ...then make the real edit.
  const message = await alice
    .apply(settings({ checkout: "disabled" }), { fieldManager: "kubectl-edit", force: true })
    .then(
      () => {
        throw new Error("demo: alice's edit was admitted");
      },
      (err: unknown) => errorMessage(err),
    );
  c.out.say(`denied:\n${message.split(/(?<=\.) /).join("\n")}`);
  const data = await configMapData(c.admin, "settings");
  if (data?.["checkout"] !== "enabled") throw new Error("demo: alice's edit changed the object");
  c.out.result("alice's kubectl edit", "denied by the webhook, object unchanged");
}

export async function bobBreaksGlass(c: GuardContext): Promise<void> {
  c.out.step(`bob (incident-responders) breaks glass for ${BREAK_GLASS_FOR} with a ticket id`);
  const said = await cli([
    "break-glass",
    "configmap/settings",
    "-n",
    "shop",
    "--reason",
    "INC-4711 checkout outage",
    "--for",
    BREAK_GLASS_FOR,
    "--kubeconfig",
    c.info.kubeconfigs.bob,
  ]);
  c.out.say(
    `$ gitops-guard break-glass configmap/settings -n shop --reason "INC-4711 checkout outage" --for ${BREAK_GLASS_FOR}\n${said}`,
  );
  const bob = createKubeClient({ kubeconfig: c.info.kubeconfigs.bob });
  await bob.apply(settings({ checkout: "disabled" }), {
    fieldManager: "kubectl-edit",
    force: true,
  });
  c.out.say(
    "bob's edit is admitted: checkout=disabled; self-heal waits for the break-glass to expire",
  );
  c.out.result("bob's break-glass edit", "admitted");
}

/** `gitops-guard audit list` against the ops server, as the security team's reader. */
function auditList(c: GuardContext, args: readonly string[]): Promise<string> {
  return cli(["audit", "list", "--server", c.opsUrl, "--kubeconfig", c.reader, ...args]);
}

export async function journaledAndAlerted(c: GuardContext): Promise<void> {
  c.out.step("The auditor journals bob's change and alerts the local receiver (HMAC checked)");
  // bob's break-glass makes two records (the annotation, then his edit): wait for the edit's.
  const record = await until("the journal record of bob's edit", async () => {
    const asJson = await auditList(c, ["--type", "break-glass", "-o", "json"]);
    return (JSON.parse(asJson) as { diff?: { path: string }[] }[]).find((r) =>
      (r.diff ?? []).some((d) => d.path === "/data/checkout"),
    );
  });
  const listed = await auditList(c, ["--type", "break-glass"]);
  c.out.say(`$ gitops-guard audit list --server ${c.opsUrl} --type break-glass\n${listed}`);
  c.out.say(`the record, as \`audit list -o json\` prints it:\n${JSON.stringify(record, null, 2)}`);
  const alert = await until("the alert", () =>
    Promise.resolve(
      c.sink.received.find((a) => a.type === "break-glass" && a.fields.includes("/data/checkout")),
    ),
  );
  c.out.say(`the alert's JSON, as the receiver got it:\n${JSON.stringify(alert, null, 2)}`);
  c.out.say(
    `alert received, signature valid: "${alert.title}" by ${alert.user}, fields ${alert.fields.join(", ")}` +
      `${alert.gitPath === undefined ? "" : `, Git path ${alert.gitPath}`}${alert.reason === undefined ? "" : `, reason "${alert.reason}"`}`,
  );
  c.out.result("journal and alert", `recorded; alert "${alert.title}" delivered`);
}

export async function expiresAndHeals(c: GuardContext): Promise<void> {
  c.out.step("The break-glass expires; self-heal puts Git's value back and journals the heal");
  const started = performance.now();
  await until(
    "the heal",
    async () =>
      (await configMapData(c.admin, "settings"))?.["checkout"] === "enabled" ? true : undefined,
    90_000,
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  c.out.say(`checkout=enabled again ${seconds} s after this step began`);
  const healed = await until("the drift-healed record", async () => {
    const out = await auditList(c, ["--type", "drift-healed"]);
    return out.includes("settings") ? out : undefined;
  });
  c.out.say(`$ gitops-guard audit list --server ${c.opsUrl} --type drift-healed\n${healed}`);
  await until("the heal alert", () =>
    Promise.resolve(c.sink.received.find((a) => a.type === "drift-healed")),
  );
  c.out.result("expiry and heal", "healed to Git's value, journaled and alerted");
}
