import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as delay } from "node:timers/promises";

// The watchdog runs the binary as its child and kills it when the process that started it
// (the test runner) is gone, however it died, so an interrupted run leaves no orphans.
const WATCHDOG = [
  'parent="$1"; shift',
  '"$@" & child=$!',
  'trap \'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0\' TERM INT',
  'while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done',
  'kill -TERM "$child" 2>/dev/null; sleep 2; kill -KILL "$child" 2>/dev/null; wait "$child"',
].join("\n");

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Sends SIGTERM, waits up to the grace period, then SIGKILL. */
  stop(graceMs?: number): Promise<void>;
  exited(): boolean;
}

/** Starts a binary under the watchdog, writing its output to logFile. */
export function startProcess(opts: {
  name: string;
  binary: string;
  args: readonly string[];
  logFile: string;
}): ManagedProcess {
  const log = createWriteStream(opts.logFile, { flags: "a" });
  const child: ChildProcess = spawn(
    "bash",
    ["-c", WATCHDOG, "watchdog", String(process.pid), opts.binary, ...opts.args],
    // Its own process group, so a stop reaches the binary too, not only the watchdog.
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
  });
  return {
    name: opts.name,
    pid: child.pid ?? -1,
    exited: () => exited,
    async stop(graceMs = 10_000) {
      if (exited) return;
      signalGroup(child, "SIGTERM");
      const timer = delay(graceMs).then(() => "timeout" as const);
      if ((await Promise.race([exit.then(() => "exited" as const), timer])) === "timeout") {
        signalGroup(child, "SIGKILL");
        await exit;
      }
    },
  };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** A TCP port that is free on loopback right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** Polls check() until it returns true, or fails naming what it waited for. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: {
    timeoutMs: number;
    intervalMs?: number;
    /** Fail at once when this process (or one of these) exits. */
    process?: ManagedProcess | readonly ManagedProcess[];
    logFile?: string;
  },
): Promise<void> {
  const deadline = performance.now() + opts.timeoutMs;
  const watched = opts.process === undefined ? [] : [opts.process].flat();
  while (performance.now() < deadline) {
    const dead = watched.find((p) => p.exited());
    if (dead !== undefined) {
      throw new Error(
        `envtest: ${dead.name} exited while waiting for ${what}; see ${opts.logFile ?? "its log"}`,
      );
    }
    if (await check().catch(() => false)) return;
    await delay(opts.intervalMs ?? 200);
  }
  throw new Error(
    `envtest: timed out after ${opts.timeoutMs} ms waiting for ${what}; see ${opts.logFile ?? "the logs"}`,
  );
}
