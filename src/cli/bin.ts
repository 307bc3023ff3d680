#!/usr/bin/env node
// The gitops-guard executable: the one place that hands the process's environment, host
// name and standard streams to the CLI.
import { hostname } from "node:os";
import { nodeTooOld } from "./node-version.js";

const tooOld = nodeTooOld(process.version);
if (tooOld === undefined) {
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
