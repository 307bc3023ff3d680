/**
 * What the developer commands (seal, unseal, keys) do to the outside world, as one object:
 * bin.ts passes the process's stdin, tests pass a buffer. Files are read and written for
 * real in both; output files are replaced atomically, so a failed run never leaves half a file.
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Environment } from "../config.js";
import { ErrorCodes, GuardError, type ErrorCode } from "../errors.js";
import type { CliOutput, ProgramDeps } from "./program.js";

export interface CliIo {
  readonly env: Environment;
  readonly output: CliOutput;
  readStdin(): Promise<Buffer>;
}

/** The commands' I/O from the program's dependencies; the process's streams by default. */
export function cliIo(deps: ProgramDeps): CliIo {
  return {
    env: deps.env,
    output: deps.output ?? {
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    },
    readStdin: deps.readStdin ?? (() => readAll(process.stdin)),
  };
}

/** Reads all of a stream, e.g. process.stdin. */
export async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** The named file's bytes; a missing file is an error that names the flag it came from. */
export async function readInputFile(
  path: string,
  flag: string,
  code: ErrorCode = ErrorCodes.SEAL_INPUT_INVALID,
): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err: unknown) {
    const reason = (err as { code?: string }).code === "ENOENT" ? "no such file" : String(err);
    throw new GuardError(code, `${flag} ${path}: ${reason}`, { cause: err });
  }
}

/** Writes via a temporary file in the same folder and a rename. */
export async function writeFileAtomically(path: string, content: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(temporary, content, { mode: 0o644 });
    await rename(temporary, path);
  } catch (err: unknown) {
    await rm(temporary, { force: true });
    throw err;
  }
}

/** Where a command's main output goes: a file (-w), or standard output. */
export async function emit(io: CliIo, text: string, file: string | undefined): Promise<void> {
  if (file === undefined) io.output.writeOut(text);
  else await writeFileAtomically(file, text);
}
