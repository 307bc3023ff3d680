/**
 * POST /validate without express: the API server waits for this one route on every guarded
 * write, and express's router, body parser and response helpers cost more per review than
 * deciding does (measured in test/bench/admission.bench.ts). This listener reads the body with
 * a size limit, parses it once, and hands everything else (other paths and methods) to the
 * express app, so errors keep the same JSON shapes: 400 for a body that is not JSON, 413 past
 * the limit, never an HTML page.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { ErrorBody } from "../http/middleware.js";
import type { Metrics } from "../telemetry/metrics.js";

/**
 * The largest review read. A body past it is answered 413, which the API server counts as a
 * failed call: with failurePolicy Ignore the write then goes through unjudged. So it must hold
 * what the API server sends: an UPDATE carries the new object (request bodies up to 3 MiB) and
 * the stored one (etcd keeps up to 1.5 MiB) as JSON, plus the envelope; 8 MiB leaves room for
 * JSON's re-encoding. Parsed on the event loop: 8 MiB takes about 10 ms as one long string and
 * 100-170 ms as many small fields here (2 shared cores), and a worker would not shorten that,
 * since taking the parsed value back from it blocked the loop longer (170 ms) than parsing.
 */
export const REVIEW_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

export interface ReviewListenerOptions {
  readonly path: string;
  readonly limitBytes: number;
  readonly metrics: Metrics;
  /** Answers a parsed body; must write the response itself. */
  readonly onReview: (body: unknown, res: ServerResponse) => void;
  /** Everything that is not a POST to path. */
  readonly fallback: RequestListener;
}

function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const query = raw.indexOf("?");
  return query === -1 ? raw : raw.slice(0, query);
}

function isJson(req: IncomingMessage): boolean {
  const type = req.headers["content-type"] ?? "";
  return /^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(type);
}

function reply(res: ServerResponse, status: number, body: ErrorBody): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function parse(
  chunks: readonly Buffer[],
  length: number,
): { ok: true; body: unknown } | { ok: false } {
  try {
    const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length))?.toString(
      "utf8",
    );
    return { ok: true, body: JSON.parse(text ?? "") as unknown };
  } catch {
    return { ok: false };
  }
}

function readReview(
  options: ReviewListenerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const chunks: Buffer[] = [];
  let length = 0;
  let tooLarge = Number(req.headers["content-length"] ?? "0") > options.limitBytes;
  req.on("data", (chunk: Buffer) => {
    length += chunk.length;
    if (length > options.limitBytes) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  });
  req.on("end", () => {
    if (tooLarge) {
      reply(res, 413, { code: "GG_HTTP_413", message: "request entity too large" });
      return;
    }
    const parsed = parse(chunks, length);
    if (!parsed.ok) {
      reply(res, 400, { code: "GG_HTTP_400", message: "the body is not valid JSON" });
      return;
    }
    options.onReview(parsed.body, res);
  });
  req.on("error", () => {
    res.destroy();
  });
}

export function reviewListener(options: ReviewListenerOptions): RequestListener {
  return (req, res) => {
    if (req.method !== "POST" || pathOf(req.url) !== options.path) {
      options.fallback(req, res);
      return;
    }
    res.on("finish", () => {
      const code = String(res.statusCode);
      options.metrics.httpRequests.inc({ server: "webhook", route: options.path, code });
    });
    if (!isJson(req)) {
      req.resume();
      reply(res, 400, { code: "GG_HTTP_400", message: "the body must be application/json" });
      return;
    }
    readReview(options, req, res);
  };
}
