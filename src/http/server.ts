/**
 * Starts an HTTP or HTTPS server for an express app with the timeouts of controller-runtime's
 * webhook server, and stops it gracefully within a bound.
 */
import {
  createServer as createHttpServer,
  type RequestListener,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { ErrorCodes, GuardError, errorMessage } from "../errors.js";
import { realClock, type Clock } from "../runtime/clock.js";
import type { Logger } from "../telemetry/log.js";
import { dialableHost, formatHostPort, parseHostPort, type HostPort } from "./address.js";

/**
 * controller-runtime (pkg/internal/httpserver) uses ReadHeaderTimeout 32 s, IdleTimeout 90 s
 * ("matches http.DefaultTransport keep-alive timeout", the API server's client) and
 * MaxHeaderBytes 1 MiB. Node requires headersTimeout <= requestTimeout, and the API server
 * gives a webhook call at most 30 s, so a request still arriving after 32 s is dead anyway.
 */
export const SERVER_LIMITS = {
  headersTimeoutMs: 32_000,
  requestTimeoutMs: 32_000,
  keepAliveTimeoutMs: 90_000,
  maxHeaderSize: 1024 * 1024,
  shutdownTimeoutMs: 10_000,
} as const;

/** PEM-encoded serving certificate (chain) and private key. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
}

export interface StartServerOptions {
  /** An express app or any Node request listener. */
  readonly app: RequestListener;
  /** host:port; port 0 picks a free port (see RunningServer.port). */
  readonly listen: string;
  /** Serve HTTPS with this certificate; plain HTTP when absent. */
  readonly tls?: TlsMaterial;
  readonly logger: Logger;
  /** How long close() lets in-flight requests finish before cutting connections. */
  readonly shutdownTimeoutMs?: number;
  readonly clock?: Clock;
}

export interface RunningServer {
  readonly port: number;
  /** Where a local client reaches it, e.g. https://127.0.0.1:9443 (wildcards become loopback). */
  readonly url: string;
  /** Stops accepting, closes idle keep-alive connections, waits for in-flight requests up to
   * the shutdown bound, then cuts what is left. Safe to call more than once. */
  close(): Promise<void>;
  /**
   * Serves new connections with another certificate (a renewal), without a restart; existing
   * connections keep theirs. Throws TLS_INVALID for bad material or a plain-HTTP server.
   */
  setTls(tls: TlsMaterial): void;
}

/** A server with no request listener yet: trackInFlight must see each request first. */
function createNodeServer(tls: TlsMaterial | undefined): Server {
  const options = {
    headersTimeout: SERVER_LIMITS.headersTimeoutMs,
    requestTimeout: SERVER_LIMITS.requestTimeoutMs,
    keepAliveTimeout: SERVER_LIMITS.keepAliveTimeoutMs,
    maxHeaderSize: SERVER_LIMITS.maxHeaderSize,
  };
  if (tls === undefined) return createHttpServer(options);
  try {
    return createHttpsServer({ ...options, cert: tls.cert, key: tls.key, minVersion: "TLSv1.2" });
  } catch (err: unknown) {
    const message = `invalid TLS certificate or key: ${errorMessage(err)}`;
    throw new GuardError(ErrorCodes.TLS_INVALID, message, { cause: err });
  }
}

function listenOn(server: Server, address: HostPort, listen: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      const message = `cannot listen on ${listen}: ${err.message}`;
      reject(
        new GuardError(ErrorCodes.HTTP_LISTEN_FAILED, message, { cause: err, details: { listen } }),
      );
    };
    server.once("error", onError);
    server.listen({ host: address.host, port: address.port }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

interface ShutdownDeps {
  readonly server: Server;
  readonly inFlight: ReadonlySet<ServerResponse>;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/**
 * Tracks responses in progress, and once `draining()` is true asks each client to drop its
 * connection after the current response, so no keep-alive connection outlives the drain.
 */
function trackInFlight(server: Server, draining: () => boolean): ReadonlySet<ServerResponse> {
  const inFlight = new Set<ServerResponse>();
  server.on("request", (_req, res: ServerResponse) => {
    inFlight.add(res);
    res.once("close", () => inFlight.delete(res));
    if (draining() && !res.headersSent) res.setHeader("Connection", "close");
  });
  return inFlight;
}

function shutdown({ server, inFlight, clock, timeoutMs, logger }: ShutdownDeps): Promise<void> {
  return new Promise((resolve) => {
    const cancel = clock.setTimer(() => {
      logger.warn(
        { timeoutMs, inFlight: inFlight.size },
        "shutdown bound reached; cutting connections",
      );
      server.closeAllConnections();
    }, timeoutMs);
    for (const res of inFlight) {
      if (!res.headersSent) res.setHeader("Connection", "close");
    }
    // close() stops accepting and, since Node 19, closes idle keep-alive connections.
    server.close(() => {
      cancel();
      resolve();
    });
  });
}

/** Listens on options.listen; rejects with HTTP_LISTEN_FAILED or TLS_INVALID. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { listen, logger } = options;
  const address = parseHostPort(listen);
  if (address === undefined) {
    const message = `cannot listen on "${listen}": not host:port`;
    throw new GuardError(ErrorCodes.HTTP_LISTEN_FAILED, message, { details: { listen } });
  }
  const server = createNodeServer(options.tls);
  let closing: Promise<void> | undefined;
  const inFlight = trackInFlight(server, () => closing !== undefined);
  server.on("request", options.app);
  await listenOn(server, address, listen);
  server.on("error", (err) => {
    logger.error({ err, listen }, "server error");
  });
  const { port } = server.address() as AddressInfo;
  const scheme = options.tls === undefined ? "http" : "https";
  const url = `${scheme}://${formatHostPort(dialableHost(address.host), port)}`;
  logger.info({ listen, url }, "listening");
  const deps: ShutdownDeps = {
    server,
    inFlight,
    clock: options.clock ?? realClock(),
    timeoutMs: options.shutdownTimeoutMs ?? SERVER_LIMITS.shutdownTimeoutMs,
    logger,
  };
  return {
    port,
    url,
    close: () => (closing ??= shutdown(deps)),
    setTls: (tls) => {
      replaceTls(server, tls);
    },
  };
}

function replaceTls(server: Server, tls: TlsMaterial): void {
  if (!("setSecureContext" in server) || typeof server.setSecureContext !== "function") {
    throw new GuardError(ErrorCodes.TLS_INVALID, "cannot set TLS on a plain HTTP server");
  }
  try {
    (server as HttpsServer).setSecureContext({ cert: tls.cert, key: tls.key });
  } catch (err: unknown) {
    const message = `invalid TLS certificate or key: ${errorMessage(err)}`;
    throw new GuardError(ErrorCodes.TLS_INVALID, message, { cause: err });
  }
}
