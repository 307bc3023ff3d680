/**
 * A network of a test's own: a new user and network namespace (no root needed where user
 * namespaces are allowed) whose only interface is loopback, with one extra address on it.
 *
 * Why: the API server's service proxy refuses loopback endpoints (Endpoints validation rejects
 * 127.0.0.0/8), so the path kubeseal takes to a controller (--fetch-cert, --validate,
 * --re-encrypt) cannot be tested against a server on 127.0.0.1. Inside the namespace,
 * ISOLATED_ADDRESS is an ordinary address that nothing outside the namespace can reach, so
 * servers still listen on loopback only.
 */
import { spawn } from "node:child_process";

export const ISOLATED_ADDRESS = "10.253.0.1";

/** Set inside the namespace, so vitest.config.ts can offer the tests that need it. */
export const NETNS_ENV = "GITOPS_GUARD_TEST_NETNS";

const SETUP = `ip link set lo up && ip addr add ${ISOLATED_ADDRESS}/32 dev lo && exec "$@"`;

export interface NetnsRun {
  readonly code: number | null;
  readonly output: string;
}

/** Runs command in a fresh network namespace; bounded by timeoutMs, then killed. */
export function runInIsolatedNetwork(
  command: string,
  args: readonly string[],
  opts: { cwd: string; timeoutMs: number },
): Promise<NetnsRun> {
  // root needs no user namespace (and some container runtimes refuse one); others do.
  const namespaces = process.getuid?.() === 0 ? ["--net"] : ["--user", "--map-root-user", "--net"];
  const child = spawn("unshare", [...namespaces, "--", "sh", "-c", SETUP, "sh", command, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, [NETNS_ENV]: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const keep = (chunk: Buffer): void => {
    output += chunk.toString("utf8");
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
  }, opts.timeoutMs);
  return new Promise((resolve, reject) => {
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(
        new Error(`cannot start unshare (util-linux) for an isolated network: ${err.message}`),
      );
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
