/**
 * A problem with the input (syntax, structure, metadata, a value sops cannot read), raised by
 * code that does not know the file's name. decrypt.ts turns it into a GuardError that names
 * the file. Messages never quote a value.
 */
import { ErrorCodes, type ErrorCode } from "../../errors.js";

export class FormatError extends Error {
  override readonly name = "FormatError";
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    message: string,
    code: ErrorCode = ErrorCodes.SOPS_INPUT_INVALID,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export function metadataError(message: string): FormatError {
  return new FormatError(message, ErrorCodes.SOPS_METADATA_INVALID);
}
