#!/usr/bin/env node
// The gitops-guard executable: the one place that hands the process's environment, host
// name and standard streams to the CLI. It imports only what it needs before the CLI itself.
import module from "node:module";
import { constants, homedir, hostname } from "node:os";
import { compileCacheDirectory } from "./compile-cache.js";
import { nodeTooOld } from "./node-version.js";

/**
 * A reader that stops early (`gitops-guard seal --help | head -1`) closes the pipe under us.
 * Node ignores SIGPIPE, so the write fails with EPIPE and, with no listener, the stream's
 * 'error' event crashes the process with a stack trace. End instead as coreutils do when
 * SIGPIPE kills them: at once, silently, with the status a shell reports for that (128 + 13),
 * so a pipeline under `set -o pipefail` still learns the output was cut short. Any other
 * write error is thrown as before.
 */
function endQuietlyOnBrokenPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    process.exit(128 + constants.signals.SIGPIPE);
  });
}

endQuietlyOnBrokenPipe(process.stdout);
endQuietlyOnBrokenPipe(process.stderr);

const tooOld = nodeTooOld(process.version);
if (tooOld === undefined) {
  // Before the CLI is imported, since the cache serves only modules loaded after this call: V8
  // then reuses the code it compiled for them on an earlier run (docs/benchmarks.md, "CLI
  // start-up"). A folder Node cannot use leaves the cache off and the run unchanged.
  const cacheDir = compileCacheDirectory(process.env, process.platform, homedir());
  if (cacheDir !== undefined) module.enableCompileCache(cacheDir);
  // Imported only now: on an older Node the CLI would fail later with a TypeError, not this.
  const { runCli } = await import("./run-cli.js");
  process.exitCode = await runCli(process.argv, {
    // Loaded only for `run`: the service pulls in the Kubernetes client, which the offline
    // commands (seal, unseal) must not pay for at start-up.
    run: async (config) => {
      const { run } = await import("../main.js");
      await run(config);
    },
    env: process.env,
    hostname: hostname(),
    output: {
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    },
  });
} else {
  process.stderr.write(tooOld);
  process.exitCode = 2;
}
