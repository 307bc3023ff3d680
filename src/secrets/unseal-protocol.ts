/**
 * The messages between the secrets controller and its unseal threads. Values cross the thread
 * boundary in memory only (structured clone); nothing here is logged.
 */
import type { SealedSecret } from "../crypto/sealing/sealed-secret.js";
import type { SealingKey } from "../crypto/sealing/keyring.js";
import type { SecretObject, UnsealOptions } from "../crypto/sealing/unseal.js";
import type { ErrorCode } from "../errors.js";

export type UnsealRequest =
  | { readonly type: "keys"; readonly keys: readonly SealingKey[] }
  | {
      readonly type: "unseal";
      readonly id: number;
      readonly sealedSecret: SealedSecret;
      readonly options: Omit<UnsealOptions, "keyring">;
    };

export type UnsealReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly secret: SecretObject;
      /** Structured clone turns Buffers into Uint8Arrays; the pool turns them back. */
      readonly values: ReadonlyMap<string, Uint8Array>;
      readonly openedWith: ReadonlyMap<string, string>;
      /** CPU this thread spent on the request, µs (user + system). */
      readonly cpuMicros: number;
    }
  | {
      readonly id: number;
      readonly ok: false;
      readonly code: ErrorCode;
      readonly message: string;
      readonly details: Readonly<Record<string, unknown>>;
      readonly cpuMicros: number;
    };
