import type { RequestOptions } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { ErrorCodes, GuardError, type ErrorCode } from "../errors.js";
import { parseProxyUrl } from "./proxy.js";
import {
  readAll,
  type ResponseBody,
  type TlsOptions,
  type Transport,
  type WireResponse,
} from "./transport.js";

export interface RestRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  readonly contentType?: string;
  /** Default application/json; a PartialObjectMetadataList asks for metadata only. */
  readonly accept?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** An impersonated identity: the API server authorises the request as this user and groups. */
export interface Impersonation {
  readonly user: string;
  readonly groups?: readonly string[];
}

/**
 * The HTTP transport to the API server. client-node's KubeConfig supplies the cluster, TLS and
 * credentials (token files, exec plugins, in-cluster config); requests go over HTTP/2
 * (transport.ts) because client-node's generic object API cannot reach subresources such as
 * /status and cannot impersonate groups, and its HTTP/1.1 client costs twice the CPU per request.
 */
export interface RestClient {
  readonly server: string;
  json<T>(req: RestRequest): Promise<T>;
  /** The body as text, for answers that are not JSON (a service proxy's PEM file). */
  text(req: RestRequest): Promise<string>;
  /** Opens a streaming GET (watch); the caller reads and destroys the response. */
  stream(req: RestRequest): Promise<ResponseBody>;
  /** Closes the connection once its requests and watches are done. */
  close(): void;
}

export function createRestClient(
  kc: KubeConfig,
  impersonate: Impersonation | undefined,
  transport: Transport,
): RestClient {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw new GuardError(ErrorCodes.KUBECONFIG_INVALID, "kubeconfig has no current cluster");
  }
  const server = cluster.server.replace(/\/+$/, "");
  // Fixed for the client's life, so a request without them does no extra work.
  const proxy = parseProxyUrl(cluster.proxyUrl);
  const route = proxy === undefined ? {} : { proxy };
  const credentials = { basic: basicAuthOf(kc), impersonate };
  const send = async (req: RestRequest): Promise<WireResponse> => {
    // Per request: credentials may rotate (token files, exec plugins).
    const opts: RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const headers = headersOf(req, opts, credentials);
    const payload =
      req.body === undefined
        ? undefined
        : Buffer.from(typeof req.body === "string" ? req.body : JSON.stringify(req.body));
    try {
      return await transport.send({
        method: req.method,
        url: buildUrl(server, req),
        headers,
        ...(payload === undefined ? {} : { payload }),
        ...(req.signal === undefined ? {} : { signal: req.signal }),
        timeoutMs: req.timeoutMs ?? 30_000,
        tls: tlsOf(opts),
        ...route,
      });
    } catch (err: unknown) {
      throw requestError(req, err);
    }
  };
  const body = async (req: RestRequest, res: WireResponse): Promise<string> => {
    try {
      return await readAll(res.body);
    } catch (err: unknown) {
      throw requestError(req, err);
    }
  };
  return {
    server,
    async json<T>(req: RestRequest): Promise<T> {
      const res = await send(req);
      const text = await body(req, res);
      if (res.status < 200 || res.status > 299) throw statusError(req, res.status, text);
      return (text === "" ? {} : JSON.parse(text)) as T;
    },
    async text(req: RestRequest): Promise<string> {
      const res = await send(req);
      const text = await body(req, res);
      if (res.status < 200 || res.status > 299) throw statusError(req, res.status, text);
      return text;
    },
    async stream(req: RestRequest): Promise<ResponseBody> {
      const res = await send({ ...req, timeoutMs: req.timeoutMs ?? 0 });
      if (res.status !== 200) throw statusError(req, res.status, await body(req, res));
      return res.body;
    },
    close(): void {
      transport.close();
    },
  };
}

interface Credentials {
  /** The Authorization value for a kubeconfig user with a username and password. */
  readonly basic: string | undefined;
  readonly impersonate: Impersonation | undefined;
}

/**
 * Basic auth from the kubeconfig user, once: client-node leaves it in RequestOptions.auth (for
 * Node's https.request, which this client does not use), as "name:undefined" when the
 * password is missing, where kubectl sends an empty one.
 */
function basicAuthOf(kc: KubeConfig): string | undefined {
  // As parsed from YAML: null when absent, whatever the typings say.
  const { username, password } = (kc.getCurrentUser() ?? {}) as Record<string, unknown>;
  if (typeof username !== "string" || username === "") return undefined;
  const pair = `${username}:${typeof password === "string" ? password : ""}`;
  return `Basic ${Buffer.from(pair).toString("base64")}`;
}

function headersOf(
  req: RestRequest,
  opts: RequestOptions,
  { basic, impersonate }: Credentials,
): Record<string, string | readonly string[]> {
  const headers: Record<string, string | readonly string[]> = {
    accept: req.accept ?? "application/json",
  };
  for (const [name, value] of Object.entries(opts.headers ?? {}))
    if (value !== undefined) headers[name.toLowerCase()] = headerValue(value);
  // As Node's own auth option: a token or an exec plugin's Authorization wins.
  if (basic !== undefined && headers["authorization"] === undefined)
    headers["authorization"] = basic;
  if (impersonate !== undefined) impersonating(headers, impersonate);
  if (req.body !== undefined) headers["content-type"] = req.contentType ?? "application/json";
  return headers;
}

function impersonating(
  headers: Record<string, string | readonly string[]>,
  impersonate: Impersonation,
): void {
  headers["impersonate-user"] = impersonate.user;
  if (impersonate.groups !== undefined && impersonate.groups.length > 0)
    headers["impersonate-group"] = impersonate.groups;
}

function headerValue(value: string | number | readonly string[]): string | readonly string[] {
  return typeof value === "object" ? value : String(value);
}

function tlsOf(opts: RequestOptions): TlsOptions {
  const tls: Record<string, unknown> = {};
  const names = [
    "ca",
    "cert",
    "key",
    "pfx",
    "passphrase",
    "rejectUnauthorized",
    "servername",
  ] as const;
  for (const name of names) if (opts[name] !== undefined) tls[name] = opts[name];
  return tls;
}

function requestError(req: RestRequest, err: unknown): GuardError {
  const message = err instanceof Error ? err.message : String(err);
  return new GuardError(ErrorCodes.KUBE_REQUEST_FAILED, `${req.method} ${req.path}: ${message}`, {
    cause: err,
    details: { method: req.method, path: req.path },
  });
}

function buildUrl(server: string, req: RestRequest): URL {
  const url = new URL(server + req.path);
  for (const [k, v] of Object.entries(req.query ?? {})) {
    if (v !== undefined) url.searchParams.set(k, String(v));
  }
  return url;
}

function codeFor(status: number): ErrorCode {
  if (status === 404) return ErrorCodes.KUBE_NOT_FOUND;
  if (status === 409) return ErrorCodes.KUBE_CONFLICT;
  return ErrorCodes.KUBE_REQUEST_FAILED;
}

/** Turns a non-2xx answer into an error that carries the API server's own Status message. */
export function statusError(req: RestRequest, status: number, body: string): GuardError {
  let message = body.slice(0, 500);
  let reason = "";
  let causes: unknown;
  try {
    const parsed = JSON.parse(body) as {
      message?: unknown;
      reason?: unknown;
      details?: { causes?: unknown };
    };
    if (typeof parsed.message === "string") message = parsed.message;
    if (typeof parsed.reason === "string") reason = parsed.reason;
    // The per-field causes of a 422 Invalid (field, reason, message): callers name the field.
    if (Array.isArray(parsed.details?.causes)) causes = parsed.details.causes;
  } catch {
    // Not a Status object (a proxy or a crashed server); keep the raw text.
  }
  const details: Record<string, unknown> = {
    status,
    reason,
    message,
    method: req.method,
    path: req.path,
  };
  if (causes !== undefined) details["causes"] = causes;
  return new GuardError(
    codeFor(status),
    `${req.method} ${req.path}: ${status} ${reason} ${message}`.replace(/ +/g, " "),
    { details },
  );
}
