/**
 * An unseal thread: holds a copy of the controller's keys (KeyObjects clone across threads)
 * and runs the pure sealing library on the SealedSecrets it is sent, so RSA, the bulk of the
 * controller's CPU, runs on every core instead of the event loop's one.
 */
import { parentPort } from "node:worker_threads";
import { Keyring } from "../crypto/sealing/keyring.js";
import { unsealSealedSecret } from "../crypto/sealing/unseal.js";
import { ErrorCodes, errorMessage, isGuardError } from "../errors.js";
import type { UnsealReply, UnsealRequest } from "./unseal-protocol.js";

function open(request: Extract<UnsealRequest, { type: "unseal" }>, keyring: Keyring): UnsealReply {
  const started = process.threadCpuUsage();
  const cpu = (): number => {
    const used = process.threadCpuUsage(started);
    return used.user + used.system;
  };
  try {
    const unsealed = unsealSealedSecret(request.sealedSecret, { ...request.options, keyring });
    return { id: request.id, ok: true, ...unsealed, cpuMicros: cpu() };
  } catch (err: unknown) {
    const known = isGuardError(err);
    return {
      id: request.id,
      ok: false,
      code: known ? err.code : ErrorCodes.INTERNAL,
      message: errorMessage(err),
      details: known ? err.details : {},
      cpuMicros: cpu(),
    };
  }
}

const port = parentPort;
if (port !== null) {
  let keyring = new Keyring();
  port.on("message", (request: UnsealRequest) => {
    if (request.type === "keys") keyring = new Keyring(request.keys);
    else port.postMessage(open(request, keyring));
  });
}
