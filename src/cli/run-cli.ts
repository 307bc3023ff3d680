import { CommanderError } from "commander";
import { isGuardError } from "../errors.js";
import { ExitStatus } from "./exit-status.js";
import { buildProgram, type CliOutput, type ProgramDeps } from "./program.js";

export interface CliDeps extends ProgramDeps {
  readonly output: CliOutput;
}

/** The exit code for a failure, after telling the user about it. */
function reportFailure(err: unknown, output: CliOutput): number {
  // Commander has already printed usage errors, help and the version.
  if (err instanceof CommanderError) return err.exitCode;
  if (err instanceof ExitStatus) {
    return err.cause === undefined
      ? err.status
      : Math.max(err.status, reportFailure(err.cause, output));
  }
  // Our errors are meant for people: the code and message say it all, a stack would not help.
  if (isGuardError(err)) {
    output.writeErr(`error ${err.code}: ${err.message}\n`);
    return 1;
  }
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  output.writeErr(`error: ${text}\n`);
  return 1;
}

/** Parses argv (as in process.argv: node, script, args...), runs the command, returns the exit code. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  try {
    await buildProgram(deps).parseAsync([...argv]);
    return 0;
  } catch (err: unknown) {
    return reportFailure(err, deps.output);
  }
}
