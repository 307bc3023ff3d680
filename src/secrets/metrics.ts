/**
 * The secrets controller's metrics, on the process registry with the gitops_guard_ prefix.
 * Labels hold result classes, error codes and key fingerprints: never a value.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { metricName } from "../telemetry/metrics.js";

export interface SecretsMetrics {
  /** result: success | failure; reason: ok, an unseal error code, unmanaged, update, status. */
  readonly unseal: Counter<"result" | "reason">;
  readonly keys: Gauge;
  /** When the newest key became current (its certificate's NotBefore), seconds since the epoch. */
  readonly lastRotation: Gauge;
  /** SealedSecrets whose values one key opens: shows what still depends on an old key. */
  readonly keyUsage: Gauge<"fingerprint">;
  /** CPU the unsealing itself took (RSA and AES), measured on the thread that did it. */
  readonly unsealCpu: Counter;
}

/** Registers the metrics, or returns those already on registry (one set per registry). */
export function secretsMetrics(registry: Registry): SecretsMetrics {
  const registers = [registry];
  const names = {
    unseal: metricName("secrets_unseal_total"),
    keys: metricName("secrets_keys"),
    lastRotation: metricName("secrets_last_key_rotation_timestamp_seconds"),
    keyUsage: metricName("secrets_sealedsecrets_by_key"),
    unsealCpu: metricName("secrets_unseal_cpu_seconds_total"),
  };
  return {
    unseal:
      (registry.getSingleMetric(names.unseal) as Counter<"result" | "reason"> | undefined) ??
      new Counter({
        name: names.unseal,
        help: "SealedSecrets unsealed into Secrets, by result and reason.",
        labelNames: ["result", "reason"] as const,
        registers,
      }),
    keys:
      (registry.getSingleMetric(names.keys) as Gauge | undefined) ??
      new Gauge({ name: names.keys, help: "Sealing keys held (all decrypt).", registers }),
    lastRotation:
      (registry.getSingleMetric(names.lastRotation) as Gauge | undefined) ??
      new Gauge({
        name: names.lastRotation,
        help: "When the newest sealing key became current (certificate NotBefore), Unix seconds.",
        registers,
      }),
    keyUsage:
      (registry.getSingleMetric(names.keyUsage) as Gauge<"fingerprint"> | undefined) ??
      new Gauge({
        name: names.keyUsage,
        help: "SealedSecrets with at least one value opened by this key.",
        labelNames: ["fingerprint"] as const,
        registers,
      }),
    unsealCpu:
      counterOn(registry, names.unsealCpu) ??
      new Counter({
        name: names.unsealCpu,
        help: "CPU seconds spent opening SealedSecrets (RSA and AES), on the threads that did it.",
        registers,
      }),
  };
}

function counterOn(registry: Registry, name: string): Counter | undefined {
  const metric = registry.getSingleMetric(name);
  return metric instanceof Counter ? metric : undefined;
}

/** The reason label of an unseal failure: the error code without its GG_ prefix, lower case. */
export function reasonLabel(code: string): string {
  return code.replace(/^GG_/, "").toLowerCase();
}

/** Which keys each SealedSecret depends on, kept in the keyUsage gauge as counts per key. */
export class KeyUsage {
  private readonly bySealedSecret = new Map<string, ReadonlySet<string>>();
  private readonly counts = new Map<string, number>();
  private readonly gauge: Gauge<"fingerprint">;

  constructor(gauge: Gauge<"fingerprint">) {
    this.gauge = gauge;
  }

  set(key: string, fingerprints: ReadonlySet<string>): void {
    this.delete(key);
    this.bySealedSecret.set(key, fingerprints);
    for (const fp of fingerprints) this.bump(fp, 1);
  }

  delete(key: string): void {
    const old = this.bySealedSecret.get(key);
    if (old === undefined) return;
    this.bySealedSecret.delete(key);
    for (const fp of old) this.bump(fp, -1);
  }

  /** SealedSecrets that depend on a key, by fingerprint. */
  count(fingerprint: string): number {
    return this.counts.get(fingerprint) ?? 0;
  }

  private bump(fingerprint: string, by: number): void {
    const next = (this.counts.get(fingerprint) ?? 0) + by;
    this.counts.set(fingerprint, next);
    this.gauge.set({ fingerprint }, next);
  }
}
