// `npm run envtest -- check`: starts the real control plane, prints the API server's /version,
// creates and reads back one object per fixed identity, tears everything down, exits 0.
// `npm run envtest -- start`: the same control plane, kept running until Ctrl-C, for hacking.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBinaries } from "./binaries.js";
import { kubectl } from "./bootstrap.js";
import {
  IDENTITIES,
  startControlPlane,
  type ControlPlaneInfo,
  type IdentityName,
} from "./control-plane.js";

interface CheckObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  [field: string]: unknown;
}

function objectFor(identity: IdentityName, namespace: string): CheckObject {
  const metadata = { name: `envtest-check-${identity}`, namespace };
  // The secrets service account may only write Secrets; everyone else writes a ConfigMap.
  return identity === "secrets"
    ? { apiVersion: "v1", kind: "Secret", metadata, stringData: { note: "envtest check" } }
    : { apiVersion: "v1", kind: "ConfigMap", metadata, data: { writer: identity } };
}

async function checkIdentity(info: ControlPlaneInfo, identity: IdentityName): Promise<string> {
  const bin = ensureBinaries();
  const kc = info.kubeconfigs[identity];
  const obj = objectFor(identity, "envtest-check");
  const file = join(info.dir, `check-${identity}.json`);
  writeFileSync(file, JSON.stringify(obj));
  await kubectl(bin, kc, ["create", "-f", file]);
  const back = JSON.parse(
    await kubectl(bin, kc, [
      "get",
      obj.kind,
      obj.metadata.name,
      "-n",
      obj.metadata.namespace,
      "-o",
      "json",
    ]),
  ) as { metadata: { uid: string; managedFields?: { manager: string }[] } };
  const who = JSON.parse(await kubectl(bin, kc, ["auth", "whoami", "-o", "json"])) as {
    status: { userInfo: { username: string; groups?: string[] } };
  };
  const groups = (who.status.userInfo.groups ?? []).join(",");
  return `${identity.padEnd(10)} ${who.status.userInfo.username} [${groups}] created and read ${obj.kind}/${obj.metadata.name} uid=${back.metadata.uid}`;
}

async function check(info: ControlPlaneInfo): Promise<void> {
  const bin = ensureBinaries();
  const version = await kubectl(bin, info.kubeconfigs.admin, ["get", "--raw", "/version"]);
  process.stdout.write(`${JSON.stringify(JSON.parse(version), null, 2)}\n`);
  process.stdout.write(`control plane ready in ${info.startMs} ms at ${info.apiServerUrl}\n`);
  process.stdout.write(`Pods run on fake Nodes (kube-scheduler, kwok): ${info.nodes.join(", ")}\n`);
  await kubectl(bin, info.kubeconfigs.admin, ["create", "namespace", "envtest-check"]);
  for (const identity of IDENTITIES) {
    process.stdout.write(`${await checkIdentity(info, identity)}\n`);
  }
}

async function main(command: string | undefined): Promise<void> {
  if (command !== "check" && command !== "start") {
    process.stderr.write("usage: npm run envtest -- check|start\n");
    process.exitCode = 2;
    return;
  }
  const cp = await startControlPlane({ keepDir: command === "start", workloads: true });
  const stopAndExit = (code: number): void => {
    void cp.stop().finally(() => process.exit(code));
  };
  process.once("SIGINT", () => {
    stopAndExit(130);
  });
  process.once("SIGTERM", () => {
    stopAndExit(143);
  });
  try {
    await check(cp.info);
  } catch (err: unknown) {
    process.stderr.write(
      `envtest check failed: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exitCode = 1;
  }
  if (command === "start") {
    process.stdout.write(`kubeconfigs in ${cp.info.dir} (admin.kubeconfig ...); Ctrl-C stops\n`);
    return;
  }
  await cp.stop();
}

await main(process.argv[2]);
