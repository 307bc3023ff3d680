import type { KubeConfig } from "@kubernetes/client-node";
import { ErrorCodes, isGuardError } from "../errors.js";
import { Discovery } from "./discovery.js";
import { loadKubeConfig } from "./kubeconfig.js";
import type { KubeObject, ObjectRef, TypeRef } from "./objects.js";
import { collectionPath, objectPath, type ResourceInfo } from "./paths.js";
import { createHttp1Transport } from "./http1-transport.js";
import { createHttp2Transport } from "./http2-transport.js";
import { createRestClient, type Impersonation, type RestClient, type RestRequest } from "./rest.js";
import type { Transport } from "./transport.js";

// Where tests and the CLI have always found it.
export { loadKubeConfig } from "./kubeconfig.js";

/** The server-side apply field manager of every gitops-guard write (DESIGN.md, fixed names). */
export const FIELD_MANAGER = "gitops-guard";
const APPLY_PATCH = "application/apply-patch+yaml";
const MERGE_PATCH = "application/merge-patch+json";

const METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

function listRequest(path: string, opts: ListOptions, cont: string | undefined): RestRequest {
  return {
    method: "GET",
    path,
    query: {
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      limit: 500,
      continue: cont,
    },
    ...(opts.metadataOnly === true ? { accept: METADATA_LIST } : {}),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  };
}

export interface ListOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Ask the API server for metadata only (PartialObjectMetadataList), so the items carry no
   * data or spec: for Secrets, nothing of their values crosses the wire.
   */
  readonly metadataOnly?: boolean;
  /** Ends the list early (an informer stopping): it rejects, and no page is read after. */
  readonly signal?: AbortSignal;
}

export interface ListResult<T> {
  readonly items: T[];
  readonly resourceVersion: string;
}

export interface ApplyOptions {
  readonly fieldManager?: string;
  /** Take ownership of fields other managers hold (a reconciler's right over Git's fields). */
  readonly force?: boolean;
  readonly dryRun?: boolean;
}

export interface DeleteOptions {
  readonly propagationPolicy?: "Foreground" | "Background" | "Orphan";
  /** Delete only if the object still has this uid (it was not recreated meanwhile). */
  readonly uid?: string;
}

export interface KubeClientOptions {
  /**
   * A kubeconfig file, or a list of them merged as kubectl merges KUBECONFIG; absent means the
   * pod's in-cluster service account.
   */
  readonly kubeconfig?: string | readonly string[];
  readonly impersonate?: Impersonation;
  /** HTTP/2 to the API server (the default); false talks HTTP/1.1. */
  readonly http2?: boolean;
}

/** Strips what the server owns, so an apply body says only what the caller wants. */
function applyBody(obj: KubeObject): KubeObject {
  const { managedFields, resourceVersion, uid, creationTimestamp, generation, ...metadata } =
    obj.metadata;
  return { ...obj, metadata };
}

/** Typed access to the API server: reads, server-side apply, status writes and deletes. */
export class KubeClient {
  readonly rest: RestClient;
  private readonly discovery: Discovery;
  private readonly kc: KubeConfig;
  private readonly newTransport: () => Transport;

  constructor(
    rest: RestClient,
    discovery: Discovery,
    kc: KubeConfig,
    newTransport: () => Transport,
  ) {
    this.rest = rest;
    this.discovery = discovery;
    this.kc = kc;
    this.newTransport = newTransport;
  }

  resource(type: TypeRef): Promise<ResourceInfo> {
    return this.discovery.resourceFor(type);
  }

  /** The kind served as `plural` in apiVersion, from discovery; undefined when not served. */
  kindOf(apiVersion: string, plural: string): Promise<string | undefined> {
    return this.discovery.kindOf(apiVersion, plural);
  }

  /** A client that acts as another identity (the API server must allow impersonation). */
  impersonating(identity: Impersonation): KubeClient {
    const rest = createRestClient(this.kc, identity, this.newTransport());
    return new KubeClient(rest, new Discovery(rest), this.kc, this.newTransport);
  }

  async get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    const resource = await this.resource(ref);
    try {
      return await this.rest.json<T>({ method: "GET", path: objectPath(resource, ref) });
    } catch (err: unknown) {
      if (isGuardError(err, ErrorCodes.KUBE_NOT_FOUND)) return undefined;
      throw err;
    }
  }

  /** Lists every page of a collection; resourceVersion is the list's, for a watch to start at. */
  async list<T extends KubeObject>(type: TypeRef, opts: ListOptions = {}): Promise<ListResult<T>> {
    const resource = await this.resource(type);
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = "";
    do {
      const page = await this.rest.json<{
        items?: T[];
        metadata?: { resourceVersion?: string; continue?: string };
      }>(listRequest(collectionPath(resource, opts.namespace), opts, cont));
      // List items carry no apiVersion/kind; put them back so every object is self-describing.
      for (const item of page.items ?? [])
        items.push({ ...item, apiVersion: type.apiVersion, kind: type.kind });
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue === "" ? undefined : page.metadata?.continue;
    } while (cont !== undefined);
    return { items, resourceVersion };
  }

  async create<T extends KubeObject>(obj: KubeObject): Promise<T> {
    const resource = await this.resource(obj);
    return this.rest.json<T>({
      method: "POST",
      path: collectionPath(resource, obj.metadata.namespace),
      body: obj,
    });
  }

  /** Replaces the whole object; fails with KUBE_CONFLICT unless its resourceVersion is current. */
  async replace<T extends KubeObject>(obj: KubeObject): Promise<T> {
    const resource = await this.resource(obj);
    const ref = { namespace: obj.metadata.namespace, name: obj.metadata.name ?? "" };
    return this.rest.json<T>({ method: "PUT", path: objectPath(resource, ref), body: obj });
  }

  /** Server-side apply under the fixed field manager; a no-op apply leaves resourceVersion alone. */
  async apply<T extends KubeObject>(obj: KubeObject, opts: ApplyOptions = {}): Promise<T> {
    return this.applyTo<T>(obj, opts);
  }

  /** Server-side apply of the status subresource (the body's status is what is applied). */
  async applyStatus<T extends KubeObject>(obj: KubeObject, opts: ApplyOptions = {}): Promise<T> {
    return this.applyTo<T>(obj, opts, "status");
  }

  async patchStatus<T extends KubeObject>(ref: ObjectRef, status: unknown): Promise<T> {
    const resource = await this.resource(ref);
    return this.rest.json<T>({
      method: "PATCH",
      path: objectPath(resource, ref, "status"),
      body: { status },
      contentType: MERGE_PATCH,
    });
  }

  /** A JSON merge patch (RFC 7386) of the object: null removes a key, maps merge. */
  async mergePatch<T extends KubeObject>(
    ref: ObjectRef,
    patch: unknown,
    opts: Omit<ApplyOptions, "force"> = {},
  ): Promise<T> {
    const resource = await this.resource(ref);
    return this.rest.json<T>({
      method: "PATCH",
      path: objectPath(resource, ref),
      body: patch,
      contentType: MERGE_PATCH,
      query: {
        fieldManager: opts.fieldManager ?? FIELD_MANAGER,
        dryRun: opts.dryRun === true ? "All" : undefined,
      },
    });
  }

  /** Deletes the object; false when it was already gone. */
  async delete(ref: ObjectRef, opts: DeleteOptions = {}): Promise<boolean> {
    const resource = await this.resource(ref);
    const body: Record<string, unknown> = { apiVersion: "v1", kind: "DeleteOptions" };
    if (opts.propagationPolicy !== undefined) body["propagationPolicy"] = opts.propagationPolicy;
    if (opts.uid !== undefined) body["preconditions"] = { uid: opts.uid };
    try {
      await this.rest.json({ method: "DELETE", path: objectPath(resource, ref), body });
      return true;
    } catch (err: unknown) {
      if (isGuardError(err, ErrorCodes.KUBE_NOT_FOUND)) return false;
      throw err;
    }
  }

  private async applyTo<T extends KubeObject>(
    obj: KubeObject,
    opts: ApplyOptions,
    sub?: string,
  ): Promise<T> {
    const resource = await this.resource(obj);
    const ref = { namespace: obj.metadata.namespace, name: obj.metadata.name ?? "" };
    return this.rest.json<T>({
      method: "PATCH",
      path: objectPath(resource, ref, sub),
      body: applyBody(obj),
      contentType: APPLY_PATCH,
      query: {
        fieldManager: opts.fieldManager ?? FIELD_MANAGER,
        force: opts.force ?? true,
        dryRun: opts.dryRun === true ? "All" : undefined,
      },
    });
  }
}

/** Builds a client from a kubeconfig file or the in-cluster config; opens no connection. */
export function createKubeClient(opts: KubeClientOptions = {}): KubeClient {
  const kc = loadKubeConfig(opts.kubeconfig);
  const newTransport = opts.http2 === false ? createHttp1Transport : createHttp2Transport;
  const rest: RestClient = createRestClient(kc, opts.impersonate, newTransport());
  return new KubeClient(rest, new Discovery(rest), kc, newTransport);
}
