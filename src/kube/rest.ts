import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { ErrorCodes, GuardError, type ErrorCode } from "../errors.js";

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
 * credentials (token files, exec plugins, in-cluster config); requests go through node:https
 * because client-node's generic object API cannot reach subresources such as /status and
 * cannot impersonate groups.
 */
export interface RestClient {
  readonly server: string;
  json<T>(req: RestRequest): Promise<T>;
  /** The body as text, for answers that are not JSON (a service proxy's PEM file). */
  text(req: RestRequest): Promise<string>;
  /** Opens a streaming GET (watch); the caller reads and destroys the response. */
  stream(req: RestRequest): Promise<IncomingMessage>;
}

export function createRestClient(kc: KubeConfig, impersonate?: Impersonation): RestClient {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) {
    throw new GuardError(ErrorCodes.KUBECONFIG_INVALID, "kubeconfig has no current cluster");
  }
  const server = cluster.server.replace(/\/+$/, "");
  let agent: HttpsAgent | HttpAgent | undefined;
  const options = async (req: RestRequest): Promise<RequestOptions> => {
    const opts: RequestOptions = {
      method: req.method,
      headers: acceptOf(req),
    };
    await kc.applyToHTTPSOptions(opts);
    const headers = (opts.headers ?? {}) as Record<string, string | string[]>;
    if (impersonate !== undefined) {
      headers["Impersonate-User"] = impersonate.user;
      if (impersonate.groups !== undefined && impersonate.groups.length > 0) {
        headers["Impersonate-Group"] = [...impersonate.groups];
      }
    }
    if (req.body !== undefined) headers["Content-Type"] = req.contentType ?? "application/json";
    opts.headers = headers;
    agent ??= server.startsWith("https:")
      ? new HttpsAgent({
          keepAlive: true,
          ca: opts.ca,
          cert: opts.cert,
          key: opts.key,
          rejectUnauthorized: opts.rejectUnauthorized ?? true,
          servername: opts.servername,
        })
      : new HttpAgent({ keepAlive: true });
    opts.agent = agent;
    return opts;
  };
  const send = async (req: RestRequest): Promise<IncomingMessage> => {
    const url = buildUrl(server, req);
    const opts = await options(req);
    const payload =
      req.body === undefined
        ? undefined
        : Buffer.from(typeof req.body === "string" ? req.body : JSON.stringify(req.body));
    if (payload !== undefined)
      (opts.headers as Record<string, string>)["Content-Length"] = String(payload.length);
    return new Promise((resolve, reject) => {
      const doRequest = url.protocol === "https:" ? httpsRequest : httpRequest;
      const r = doRequest(url, { ...opts, signal: req.signal }, resolve);
      r.setTimeout(req.timeoutMs ?? 30_000, () =>
        r.destroy(new Error(`no answer in ${req.timeoutMs ?? 30_000} ms`)),
      );
      r.on("error", (err) => {
        reject(
          new GuardError(
            ErrorCodes.KUBE_REQUEST_FAILED,
            `${req.method} ${req.path}: ${err.message}`,
            {
              cause: err,
              details: { method: req.method, path: req.path },
            },
          ),
        );
      });
      r.end(payload);
    });
  };
  return {
    server,
    async json<T>(req: RestRequest): Promise<T> {
      const res = await send(req);
      const text = await readBody(res);
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) throw statusError(req, status, text);
      return (text === "" ? {} : JSON.parse(text)) as T;
    },
    async text(req: RestRequest): Promise<string> {
      const res = await send(req);
      const text = await readBody(res);
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) throw statusError(req, status, text);
      return text;
    },
    async stream(req: RestRequest): Promise<IncomingMessage> {
      const res = await send({ ...req, timeoutMs: req.timeoutMs ?? 0 });
      const status = res.statusCode ?? 0;
      if (status !== 200) throw statusError(req, status, await readBody(res));
      return res;
    },
  };
}

function buildUrl(server: string, req: RestRequest): URL {
  const url = new URL(server + req.path);
  for (const [k, v] of Object.entries(req.query ?? {})) {
    if (v !== undefined) url.searchParams.set(k, String(v));
  }
  return url;
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => {
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    res.on("error", reject);
  });
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

function acceptOf(req: RestRequest): Record<string, string> {
  return { Accept: req.accept ?? "application/json" };
}
