/**
 * Sealing keys in the cluster: kubernetes.io/tls Secrets in the controller's namespace,
 * labelled like gitops-guard's and like Bitnami's (so Bitnami's tools and backups see them),
 * and Bitnami key Secrets imported as they are. Keys are only ever added: every key held
 * still decrypts. A new key is due `renewPeriodMs` after the newest one became current.
 *
 * No duplicate keys: a key Secret's name comes from the moment it is due ("initial" for the
 * first), so two controllers that race (a leader handover, a restart) create the same name
 * and the API server lets one win; the other reads the winner's key.
 */
import { ErrorCodes, errorMessage, isGuardError } from "../errors.js";
import {
  ACTIVE_KEY,
  BITNAMI_KEY_SECRET_LABEL,
  KEY_SECRET_LABEL,
  keyFromSecret,
  keySecret,
} from "../crypto/sealing/key-secret.js";
import { parseCertificate } from "../crypto/sealing/certificate.js";
import { Keyring, type SealingKey } from "../crypto/sealing/keyring.js";
import { generateSealingKey, type GeneratedKey } from "../crypto/sealing/keygen.js";
import type { KubeClient } from "../kube/client.js";
import type { KubeObject } from "../kube/objects.js";
import type { Clock } from "../runtime/clock.js";
import type { Logger } from "../telemetry/log.js";
import {
  keyGeneratedNote,
  keySecretEvents,
  type EventRecorder,
  type KeyTrigger,
} from "./events.js";
import { SECRET } from "./names.js";

export const DEFAULT_RENEW_PERIOD_MS = 30 * 24 * 3_600_000;
export const KEY_SECRET_PREFIX = "sealing-key-";

export interface KeyStoreOptions {
  readonly kube: KubeClient;
  readonly namespace: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** RSA modulus size of new keys. Default 4096. */
  readonly bits?: number;
  /** A new key this long after the newest became current; 0 disables renewal. */
  readonly renewPeriodMs?: number;
  /** Where KeyGenerated Events go (the auditor's key-rotated records); default the cluster. */
  readonly events?: EventRecorder;
}

/** The name of the key Secret for a slot: the moment the key is due, or the first key. */
export function keySecretNameFor(slot: number | "initial"): string {
  if (slot === "initial") return `${KEY_SECRET_PREFIX}initial`;
  const stamp = new Date(slot).toISOString().slice(0, 19).replace(/[-:]/g, "");
  return `${KEY_SECRET_PREFIX}${stamp.toLowerCase()}`;
}

/** When the next key is due, or undefined when renewal is off or no key exists yet. */
export function renewalDue(
  newest: SealingKey | undefined,
  renewPeriodMs: number,
): number | undefined {
  if (newest === undefined || renewPeriodMs <= 0) return undefined;
  return newest.since + renewPeriodMs;
}

/** The key Secret as the Event names it: metadata only, so no key material rides along. */
function secretRef(created: KubeObject): KubeObject {
  const { name, namespace, uid, resourceVersion } = created.metadata;
  const present = Object.entries({ name, namespace, uid, resourceVersion }).filter(
    ([, value]) => value !== undefined,
  );
  return { apiVersion: "v1", kind: "Secret", metadata: Object.fromEntries(present) };
}

export class KeyStore {
  private ring = new Keyring();
  private hasLoaded = false;
  private readonly opts: KeyStoreOptions;
  private readonly events: EventRecorder;

  constructor(opts: KeyStoreOptions) {
    this.opts = opts;
    const { kube, clock, logger } = opts;
    this.events = opts.events ?? keySecretEvents({ kube, clock, logger });
  }

  get keyring(): Keyring {
    return this.ring;
  }

  loaded(): boolean {
    return this.hasLoaded && this.ring.size > 0;
  }

  get renewPeriodMs(): number {
    return this.opts.renewPeriodMs ?? DEFAULT_RENEW_PERIOD_MS;
  }

  /** True when obj is a key Secret this store reads (either label, value active). */
  isKeySecret(obj: KubeObject): boolean {
    const labels = obj.metadata.labels ?? {};
    return (
      obj.metadata.namespace === this.opts.namespace &&
      (labels[KEY_SECRET_LABEL] === ACTIVE_KEY || labels[BITNAMI_KEY_SECRET_LABEL] === ACTIVE_KEY)
    );
  }

  /** Adds the key in a key Secret; false when it was held already or cannot be read. */
  addFromSecret(secret: KubeObject): boolean {
    const where = `Secret ${this.opts.namespace}/${secret.metadata.name ?? ""}`;
    try {
      return this.ring.add(keyFromSecret(secret, where));
    } catch (err: unknown) {
      // Only names and the reason: the message of a key error never holds key material.
      this.opts.logger.warn({ secret: where, err: errorMessage(err) }, "key Secret ignored");
      return false;
    }
  }

  /** Reads every key Secret of the namespace; returns how many keys were new. */
  async load(): Promise<number> {
    const { kube, namespace } = this.opts;
    let added = 0;
    for (const label of [KEY_SECRET_LABEL, BITNAMI_KEY_SECRET_LABEL]) {
      const { items } = await kube.list<KubeObject>(SECRET, {
        namespace,
        labelSelector: `${label}=${ACTIVE_KEY}`,
      });
      for (const secret of items) if (this.addFromSecret(secret)) added++;
    }
    this.hasLoaded = true;
    return added;
  }

  /** Makes sure a key exists: loads, and creates the first key when there is none. */
  async ensureKey(): Promise<void> {
    await this.load();
    if (this.ring.size === 0) await this.createKey("initial", "initial");
  }

  /** Adds a key when one is due; true when a key was added by this call. */
  async renewIfDue(): Promise<boolean> {
    const due = renewalDue(this.ring.latest(), this.renewPeriodMs);
    if (due === undefined || this.opts.clock.now() < due) return false;
    return this.createKey(due, "renewal");
  }

  /** A new key now (on demand): the next values are sealed with it. */
  async rotate(): Promise<SealingKey | undefined> {
    await this.createKey(this.opts.clock.now(), "on-demand");
    return this.ring.latest();
  }

  /**
   * Creates the key Secret of a slot unless it exists; reloads either way. Only the controller
   * whose create won records the KeyGenerated Event, so a race makes one Event, as one key.
   */
  private async createKey(slot: number | "initial", trigger: KeyTrigger): Promise<boolean> {
    const { kube, namespace, clock, logger } = this.opts;
    const name = keySecretNameFor(slot);
    // Certificates count whole seconds: a new key must start at least a second after the
    // newest, or "newest" (which seals, and is served) would be a tie.
    const newest = this.ring.latest()?.since ?? Number.NEGATIVE_INFINITY;
    const now = Math.max(clock.now(), Math.floor(newest / 1000) * 1000 + 1000);
    const generated = await generateSealingKey({ now, bits: this.opts.bits ?? 4096 });
    const secret = keySecret(generated, {
      namespace,
      name,
      labels: { [BITNAMI_KEY_SECRET_LABEL]: ACTIVE_KEY },
    });
    let written: KubeObject | undefined;
    try {
      written = await kube.create<KubeObject>(secret);
      logger.info({ secret: `${namespace}/${name}`, key: generated.key.fingerprint }, "key added");
    } catch (err: unknown) {
      if (!isGuardError(err, ErrorCodes.KUBE_CONFLICT)) throw err;
      logger.info({ secret: `${namespace}/${name}` }, "key Secret made by another controller");
    }
    if (written !== undefined) await this.recordKey(written, generated, trigger);
    await this.load();
    return written !== undefined;
  }

  private async recordKey(
    written: KubeObject,
    generated: GeneratedKey,
    trigger: KeyTrigger,
  ): Promise<void> {
    const where = `Secret ${written.metadata.namespace ?? ""}/${written.metadata.name ?? ""}`;
    try {
      const { notBefore, notAfter } = parseCertificate(generated.certificatePem, where);
      const fingerprint = generated.key.fingerprint;
      await this.events.record(
        secretRef(written),
        keyGeneratedNote({ fingerprint, notBefore, notAfter, trigger }),
      );
    } catch (err: unknown) {
      // The key is in the cluster and in use either way; the Event is a courtesy.
      this.opts.logger.warn({ secret: where, err: errorMessage(err) }, "key Event not recorded");
    }
  }
}
