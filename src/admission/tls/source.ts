/** Where the webhook's serving certificate comes from, whichever way it is managed. */

export interface ServingMaterial {
  /** PEM serving certificate (chain) and private key. */
  readonly cert: string;
  readonly key: string;
  /** PEM CA bundle for the webhook configuration; absent when someone else injects it. */
  readonly caBundle?: string;
}

export interface TlsSource {
  /** "self-managed" (a Secret shared by all replicas) or "files" (cert-manager, mounted). */
  readonly mode: "self-managed" | "files";
  /** The material to serve now; creates or renews it when due. */
  load(): Promise<ServingMaterial>;
  /** How often load() should be called again to pick up renewals and rotations. */
  readonly checkIntervalMs: number;
}

/** True when serving b instead of a needs a reload. */
export function materialChanged(a: ServingMaterial, b: ServingMaterial): boolean {
  return a.cert !== b.cert || a.key !== b.key || a.caBundle !== b.caBundle;
}
