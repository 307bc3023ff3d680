/**
 * Where SealedSecrets are opened: inline on the event loop, or on a pool of worker threads.
 * RSA-4096 decryption is about 5 ms a value and is most of the controller's CPU; on the event
 * loop it serialises every SealedSecret behind one core, while the API server it talks to
 * waits on the other. The pool keeps the sealing library pure and synchronous: each thread
 * runs it whole, with a copy of the keys sent again whenever the keyring gains one.
 */
import { Worker } from "node:worker_threads";
import type { Keyring } from "../crypto/sealing/keyring.js";
import type { SealedSecret } from "../crypto/sealing/sealed-secret.js";
import {
  unsealSealedSecret,
  type UnsealedSecret,
  type UnsealOptions,
} from "../crypto/sealing/unseal.js";
import { ErrorCodes, GuardError, errorMessage } from "../errors.js";
import type { UnsealReply, UnsealRequest } from "./unseal-protocol.js";

export interface Unsealer {
  /** Resolves the unsealed Secret; rejects with the sealing library's GuardError. */
  unseal(ss: SealedSecret, options: UnsealOptions): Promise<UnsealedSecret>;
  close(): Promise<void>;
}

export interface UnsealerOptions {
  /** Told the CPU each unseal took on its thread, µs: RSA cost under real load, for metrics. */
  readonly onCpu?: (micros: number) => void;
}

/** The library on the calling thread: for tests, the CLI, and `unsealThreads: 0`. */
export function inlineUnsealer(options: UnsealerOptions = {}): Unsealer {
  return {
    unseal: (ss, unsealOptions) =>
      Promise.resolve().then(() => {
        const started = process.threadCpuUsage();
        try {
          return unsealSealedSecret(ss, unsealOptions);
        } finally {
          const used = process.threadCpuUsage(started);
          options.onCpu?.(used.user + used.system);
        }
      }),
    close: () => Promise.resolve(),
  };
}

interface Pending {
  readonly resolve: (value: UnsealedSecret) => void;
  readonly reject: (err: unknown) => void;
}

interface Thread {
  worker: Worker;
  /** The keyring version this thread holds. */
  keys: string;
  readonly pending: Map<number, Pending>;
}

/** The worker script next to this module: .js when built, .ts (through tsx) in tests. */
function workerUrl(): { url: URL; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith(".ts");
  return {
    url: new URL(fromSource ? "./unseal-worker.ts" : "./unseal-worker.js", import.meta.url),
    execArgv: fromSource ? ["--import", "tsx"] : [],
  };
}

function keysVersion(keyring: Keyring): string {
  return keyring
    .keys()
    .map((k) => k.fingerprint)
    .join(",");
}

function toUnsealed(reply: Extract<UnsealReply, { ok: true }>): UnsealedSecret {
  const values = new Map<string, Buffer>();
  for (const [k, v] of reply.values) values.set(k, Buffer.from(v.buffer, v.byteOffset, v.length));
  return { secret: reply.secret, values, openedWith: reply.openedWith };
}

/** A pool of `size` unseal threads (size >= 1); each request goes to the least busy one. */
export function startUnsealPool(size: number, options: UnsealerOptions = {}): Unsealer {
  const { url, execArgv } = workerUrl();
  let nextId = 0;
  let closing = false;
  const threads: Thread[] = [];

  const failAll = (thread: Thread, why: string): void => {
    for (const p of thread.pending.values()) {
      p.reject(new GuardError(ErrorCodes.INTERNAL, `unseal thread stopped: ${why}`));
    }
    thread.pending.clear();
  };

  const spawn = (thread?: Thread): Thread => {
    const worker = new Worker(url, { execArgv });
    const t: Thread = thread ?? { worker, keys: "", pending: new Map() };
    t.worker = worker;
    t.keys = "";
    worker.on("message", (reply: UnsealReply) => {
      const p = t.pending.get(reply.id);
      t.pending.delete(reply.id);
      options.onCpu?.(reply.cpuMicros);
      if (p === undefined) return;
      if (reply.ok) p.resolve(toUnsealed(reply));
      else p.reject(new GuardError(reply.code, reply.message, { details: { ...reply.details } }));
    });
    worker.on("error", (err: unknown) => {
      failAll(t, errorMessage(err));
    });
    worker.on("exit", (code) => {
      failAll(t, `exit code ${String(code)}`);
      // A thread that died is replaced; the requests it held are retried by the controller.
      if (!closing) spawn(t);
    });
    // The pool must never keep the process alive on its own.
    worker.unref();
    return t;
  };
  for (let i = 0; i < size; i++) threads.push(spawn());

  const leastBusy = (): Thread =>
    threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));

  return {
    unseal(ss, options) {
      const { keyring, ...rest } = options;
      const thread = leastBusy();
      const version = keysVersion(keyring);
      if (thread.keys !== version) {
        const message: UnsealRequest = { type: "keys", keys: keyring.keys() };
        thread.worker.postMessage(message);
        thread.keys = version;
      }
      const id = nextId++;
      return new Promise<UnsealedSecret>((resolve, reject) => {
        thread.pending.set(id, { resolve, reject });
        const message: UnsealRequest = { type: "unseal", id, sealedSecret: ss, options: rest };
        thread.worker.postMessage(message);
      });
    },
    async close() {
      closing = true;
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}
