import {
  connect as http2Connect,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type OutgoingHttpHeaders,
} from "node:http2";
import { isIP } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { checkHealth, DEFAULT_HEALTH_CHECK, type HealthCheck } from "./http2-health.js";
import { createHttp1Transport } from "./http1-transport.js";
import { openTunnel, tlsThrough } from "./proxy.js";
import type { ResponseBody, Transport, WireRequest, WireResponse } from "./transport.js";

// Large flow-control windows: a LIST of thousands of objects should not wait for window
// updates every 64 KiB.
const WINDOW_BYTES = 16 * 1024 * 1024;

// For a watch (no request timeout), how long the TLS handshake (and a proxy's tunnel) may take.
const CONNECT_TIMEOUT_MS = 30_000;

const ALPN = ["h2", "http/1.1"] as const;

/** Waits for the handshake on socket, within limit; the socket is destroyed on failure. */
function handshake(socket: TLSSocket, limit: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    socket.setTimeout(limit, () =>
      socket.destroy(new Error(`no TLS handshake in ${String(limit)} ms`)),
    );
    socket.once("secureConnect", () => {
      socket.setTimeout(0);
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * Opens a TLS connection offering h2 and http/1.1, and says which one the server chose:
 * directly, or through the kubeconfig's proxy (a CONNECT tunnel, TLS end to end inside it).
 */
async function openTls(req: WireRequest): Promise<TLSSocket> {
  const host = req.url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(req.url.port || "443");
  const limit = req.timeoutMs > 0 ? req.timeoutMs : CONNECT_TIMEOUT_MS;
  if (req.proxy !== undefined) {
    const tunnel = await openTunnel(req.proxy, { host, port }, limit);
    return handshake(tlsThrough(tunnel, { host, port }, req.tls, ALPN), limit);
  }
  const servername = req.tls.servername ?? (isIP(host) === 0 ? host : undefined);
  const socket = tlsConnect({
    host,
    port,
    ...req.tls,
    ...(servername === undefined ? {} : { servername }),
    ALPNProtocols: [...ALPN],
  });
  return handshake(socket, limit);
}

// Buffered chunks beyond which the stream pauses until the reader catches up.
const HIGH_WATER_CHUNKS = 64;

/**
 * The answer's body, listened to from the moment the answer arrives: Node's own async iterator
 * over an Http2Stream starts listening only on the first read, and a short answer that ended
 * and closed before then reads as a cut stream (ERR_STREAM_PREMATURE_CLOSE).
 */
function bodyOf(stream: ClientHttp2Stream): ResponseBody {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  stream.on("data", (chunk: Buffer) => {
    queue.push(chunk);
    if (queue.length >= HIGH_WATER_CHUNKS) stream.pause();
    notify();
  });
  stream.once("end", () => {
    ended = true;
    notify();
  });
  stream.on("error", (err: Error) => {
    failure ??= err;
    notify();
  });
  stream.once("close", () => {
    if (!ended)
      failure ??= new Error(`stream closed before its end (HTTP/2 code ${String(stream.rstCode)})`);
    notify();
  });
  return {
    async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
      for (;;) {
        const chunk = queue.shift();
        if (chunk !== undefined) {
          if (stream.isPaused() && queue.length < HIGH_WATER_CHUNKS / 2) stream.resume();
          yield chunk;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (ended) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    destroy: () => {
      stream.destroy();
    },
  };
}

type Connection = { readonly h2: ClientHttp2Session } | { readonly http1: Transport };

/**
 * The connection, unless the request is cancelled first (an informer stopping while the
 * handshake waits on a server that accepted but does not answer). The connection is shared
 * with other requests, so it is left to finish, bounded by its own timeout.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.reject(new Error("the request was cancelled"));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      reject(new Error("the request was cancelled while connecting"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      signal.removeEventListener("abort", onAbort);
    });
  });
}

/**
 * HTTP/2 to the API server over one TLS connection, opened on first use and again after the
 * server closes it (GOAWAY, a restart). The connection holds the process open only while a
 * request or watch is under way. When the server does not choose h2, HTTP/1.1 is used for good.
 */
export function createHttp2Transport(health: HealthCheck = DEFAULT_HEALTH_CHECK): Transport {
  let current: ClientHttp2Session | undefined;
  let opening: Promise<Connection> | undefined;
  let http1: Transport | undefined;
  let active = 0;

  const adopt = (socket: TLSSocket, origin: string): ClientHttp2Session => {
    const session = http2Connect(origin, {
      createConnection: () => socket,
      settings: { initialWindowSize: WINDOW_BYTES },
    });
    // A session error reaches every stream on it; the requests report it.
    session.on("error", () => undefined);
    const forget = (): void => {
      if (current === session) current = undefined;
    };
    session.once("close", forget);
    session.once("goaway", forget);
    session.once("connect", () => {
      session.setLocalWindowSize(WINDOW_BYTES);
    });
    checkHealth(session, () => active > 0, health);
    session.unref();
    return session;
  };

  const connection = (req: WireRequest): Promise<Connection> => {
    if (http1 !== undefined) return Promise.resolve({ http1 });
    if (current !== undefined && !current.closed && !current.destroyed)
      return Promise.resolve({ h2: current });
    opening ??= openTls(req)
      .then((socket): Connection => {
        if (socket.alpnProtocol !== "h2") {
          socket.destroy();
          http1 = createHttp1Transport();
          return { http1 };
        }
        current = adopt(socket, req.url.origin);
        return { h2: current };
      })
      .finally(() => {
        opening = undefined;
      });
    return opening;
  };

  const release = (session: ClientHttp2Session): void => {
    active--;
    if (active === 0 && !session.destroyed) session.unref();
  };

  /** Starts the request's stream; throws at once when the session can take no more. */
  const open = (session: ClientHttp2Session, req: WireRequest): ClientHttp2Stream => {
    const headers: OutgoingHttpHeaders = {
      ":method": req.method,
      ":path": req.url.pathname + req.url.search,
    };
    for (const [name, value] of Object.entries(req.headers))
      headers[name] = typeof value === "string" ? value : [...value];
    if (req.payload !== undefined) headers["content-length"] = req.payload.length;
    const stream = session.request(headers, {
      endStream: req.payload === undefined,
      ...(req.signal === undefined ? {} : { signal: req.signal }),
    });
    active++;
    session.ref();
    stream.once("close", () => {
      release(session);
    });
    return stream;
  };

  const answer = (stream: ClientHttp2Stream, req: WireRequest): Promise<WireResponse> =>
    new Promise((resolve, reject) => {
      // Stays for the stream's life: an error after the answer ends the body's iteration.
      stream.on("error", reject);
      stream.once("response", (headers) => {
        resolve({ status: headers[":status"] ?? 0, body: bodyOf(stream) });
      });
      // A stream can close unanswered with no error at all: cancelled by the server, or cut
      // with its connection by a server going down. Without this a watch, which has no
      // timeout, would wait for an answer for ever. After an answer, rejecting is a no-op.
      stream.once("close", () => {
        reject(
          new Error(
            `the server closed the stream without an answer (HTTP/2 code ${String(stream.rstCode)})`,
          ),
        );
      });
      if (req.timeoutMs > 0) {
        stream.setTimeout(req.timeoutMs, () =>
          stream.destroy(new Error(`no answer in ${String(req.timeoutMs)} ms`)),
        );
      }
      if (req.payload !== undefined) stream.end(req.payload);
    });

  return {
    async send(req: WireRequest): Promise<WireResponse> {
      if (req.url.protocol !== "https:") {
        http1 ??= createHttp1Transport();
        return http1.send(req);
      }
      const conn = await untilAborted(connection(req), req.signal);
      if ("http1" in conn) return conn.http1.send(req);
      let stream: ClientHttp2Stream;
      try {
        stream = open(conn.h2, req);
      } catch (err: unknown) {
        // The session closed between the lookup and this request (GOAWAY, stream ids used
        // up): nothing was sent, so a new session may take it.
        const spent = (err as { code?: unknown }).code === "ERR_HTTP2_OUT_OF_STREAMS";
        if (spent) conn.h2.close();
        else if (!conn.h2.closed && !conn.h2.destroyed) throw err;
        if (current === conn.h2) current = undefined;
        const again = await untilAborted(connection(req), req.signal);
        if ("http1" in again) return again.http1.send(req);
        stream = open(again.h2, req);
      }
      return answer(stream, req);
    },
    close(): void {
      current?.close();
      current = undefined;
      http1?.close();
    },
  };
}
