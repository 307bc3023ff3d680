/**
 * moto's standalone server as a local AWS KMS (and STS) emulator for tests: installed once by
 * install.sh into a virtual environment in the user's cache folder, started on 127.0.0.1 with
 * a port the OS picks, stopped by the test that started it.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { fileURLToPath } from "node:url";

/** A first install downloads moto and its dependencies from PyPI (about a minute). */
export const MOTO_INSTALL_TIMEOUT_MS = 600_000;

const START_TIMEOUT_MS = 60_000;

export interface MotoServer {
  /** http://127.0.0.1:PORT, for every AWS service moto emulates. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Installs moto unless cached; returns the python that can run `-m moto.server`. */
export function ensureMoto(): string {
  const script = fileURLToPath(new URL("./install.sh", import.meta.url));
  const out = execFileSync("bash", [script], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: MOTO_INSTALL_TIMEOUT_MS,
  });
  const python = out.trim().split("\n").at(-1);
  if (python === undefined || python === "") throw new Error("moto install.sh printed no path");
  return python;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
        return;
      }
      const force = setTimeout(() => {
        child.kill("SIGKILL");
      }, 5_000);
      child.once("exit", () => {
        clearTimeout(force);
        resolve();
      });
      child.kill("SIGTERM");
    });
}

/** Starts moto on a free loopback port and resolves once it serves. */
export function startMoto(python: string): Promise<MotoServer> {
  const child = spawn(python, ["-m", "moto.server", "-H", "127.0.0.1", "-p", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" },
  });
  const stop = stopper(child);
  return new Promise((resolve, reject) => {
    let seen = "";
    const fail = (why: string): void => {
      clearTimeout(timer);
      void stop().then(() => {
        reject(new Error(`moto did not start: ${why}\n${seen}`));
      });
    };
    const timer = setTimeout(() => {
      fail("timed out");
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString("utf8");
      const port = /Running on http:\/\/127\.0\.0\.1:([0-9]+)/.exec(seen)?.[1];
      if (port === undefined) return;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      child.stderr.off("data", onData);
      // Keep reading so a chatty server never blocks on a full pipe.
      child.stdout.resume();
      child.stderr.resume();
      resolve({ endpoint: `http://127.0.0.1:${port}`, stop });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      fail(`exited with ${String(code)}`);
    });
    child.once("error", (err) => {
      fail(err.message);
    });
  });
}

/** Creates a KMS key in moto's region and returns its ARN (moto accepts any credentials). */
export async function createKmsKey(
  moto: MotoServer,
  region: string,
  credentials: { readonly accessKeyId: string; readonly secretAccessKey: string },
): Promise<string> {
  const client = new KMSClient({ region, endpoint: moto.endpoint, credentials });
  try {
    const out = await client.send(new CreateKeyCommand({ Description: "gitops-guard test" }));
    const arn = out.KeyMetadata?.Arn;
    if (arn === undefined) throw new Error("moto returned no key ARN");
    return arn;
  } finally {
    client.destroy();
  }
}
