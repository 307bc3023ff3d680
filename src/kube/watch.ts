import { StringDecoder } from "node:string_decoder";
import type { KubeObject } from "./objects.js";
import type { RestClient } from "./rest.js";

/** The Accept header of a watch of metadata only (PartialObjectMetadata: no data, no spec). */
export const METADATA_WATCH = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: KubeObject;
}

/** How a watch ended: the server closed it normally, or its resourceVersion is too old (410). */
export interface WatchEnd {
  readonly expired: boolean;
  readonly lastResourceVersion: string;
}

/**
 * Streams one watch from resourceVersion until the server closes it, an ERROR event arrives, or
 * signal aborts. Rejects on HTTP or stream errors; the informer decides how to recover.
 */
export async function watchOnce(opts: {
  rest: RestClient;
  path: string;
  resourceVersion: string;
  query?: Readonly<Record<string, string | undefined>>;
  /** The Accept header; METADATA_WATCH streams metadata only. */
  accept?: string;
  timeoutSeconds: number;
  signal: AbortSignal;
  onEvent: (event: WatchEvent) => void;
}): Promise<WatchEnd> {
  const res = await opts.rest.stream({
    method: "GET",
    path: opts.path,
    signal: opts.signal,
    ...(opts.accept === undefined ? {} : { accept: opts.accept }),
    query: {
      ...opts.query,
      watch: true,
      allowWatchBookmarks: true,
      resourceVersion: opts.resourceVersion,
      timeoutSeconds: opts.timeoutSeconds,
    },
  });
  let last = opts.resourceVersion;
  let expired = false;
  const handle = (line: string): boolean => {
    const event = JSON.parse(line) as { type: string; object: KubeObject & { code?: number } };
    if (event.type === "ERROR") {
      // A Status in the stream: 410 Gone means the resourceVersion left etcd's window.
      if (event.object.code !== 410)
        throw new Error(`watch ${opts.path}: ${JSON.stringify(event.object)}`);
      expired = true;
      return false;
    }
    last = event.object.metadata.resourceVersion ?? last;
    opts.onEvent({ type: event.type as WatchEventType, object: event.object });
    return true;
  };
  try {
    let pending = "";
    const decoder = new StringDecoder("utf8");
    // Iterating the response itself (not readline) makes a dropped connection throw here.
    for await (const chunk of res as AsyncIterable<Buffer>) {
      const lines = (pending + decoder.write(chunk)).split("\n");
      pending = lines.pop() ?? "";
      if (!lines.every((line) => line.trim() === "" || handle(line))) break;
    }
  } finally {
    res.destroy();
  }
  if (opts.signal.aborted) return { expired: false, lastResourceVersion: last };
  return { expired, lastResourceVersion: last };
}
