#!/usr/bin/env node
// The gitops-guard executable: the one place that hands the process's environment, host
// name and standard streams to the CLI.
import { hostname } from "node:os";
import { runCli } from "./run-cli.js";

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
