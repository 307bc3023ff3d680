// A real OpenSSH server (Debian's openssh-server) on 127.0.0.1 for the reconciler's SSH path:
// its own host key, config and authorized key, run in the foreground and stopped after the tests.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "../../envtest/processes.js";
import { tempDir } from "./temp.js";

export const SSHD = "/usr/sbin/sshd";

export interface SshServer {
  readonly port: number;
  readonly user: string;
  /** The client's private key (OpenSSH format), authorized on the server. */
  readonly clientKey: string;
  /** A known_hosts line for the server's host key. */
  readonly knownHosts: string;
  /** A known_hosts line with some other key: what a man in the middle would present. */
  readonly wrongKnownHosts: string;
  url(repoDir: string): string;
  stop(): Promise<void>;
}

function keygen(dir: string, name: string): { privateKey: string; publicKey: string } {
  const path = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]);
  return {
    privateKey: readFileSync(path, "utf8"),
    publicKey: readFileSync(`${path}.pub`, "utf8").trim(),
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      resolve(false);
    });
  });
}

export async function startSshd(): Promise<SshServer> {
  const dir = tempDir("gg-sshd-");
  const host = keygen(dir, "host_ed25519");
  const client = keygen(dir, "client");
  const other = keygen(dir, "other");
  writeFileSync(join(dir, "authorized_keys"), `${client.publicKey}\n`);
  const port = await freePort();
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, "host_ed25519")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    "UsePAM no",
    // The temp folder is the test's own; sshd's ownership checks would refuse its mode.
    "StrictModes no",
    "LogLevel ERROR",
  ].join("\n");
  writeFileSync(join(dir, "sshd_config"), `${config}\n`);
  // sshd running as root wants its privilege-separation folder, which the service unit creates.
  if (process.getuid?.() === 0 && !existsSync("/run/sshd")) mkdirSync("/run/sshd", { mode: 0o755 });
  const child: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const deadline = performance.now() + 10_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill();
      throw new Error(`sshd did not start: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const user = userInfo().username;
  const keyPart = (line: string): string => line.split(" ").slice(0, 2).join(" ");
  return {
    port,
    user,
    clientKey: client.privateKey,
    knownHosts: `[127.0.0.1]:${port} ${keyPart(host.publicKey)}\n`,
    wrongKnownHosts: `[127.0.0.1]:${port} ${keyPart(other.publicKey)}\n`,
    url: (repoDir) => `ssh://${user}@127.0.0.1:${port}${repoDir}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        child.once("exit", () => {
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}
