/**
 * An exit status that is not a plain failure: `diff` exits 1 when Git and the cluster differ
 * (as diff(1) and kubectl diff do) and 2 when it could not tell, with the cause printed.
 */
export class ExitStatus extends Error {
  readonly status: number;

  constructor(status: number, cause?: unknown) {
    super(`exit status ${String(status)}`, cause === undefined ? {} : { cause });
    this.status = status;
  }
}
