import { errorMessage } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import { Informer } from "../../kube/informer.js";
import type { KubeObject, TypeRef } from "../../kube/objects.js";
import type { Clock } from "../../runtime/clock.js";
import type { Logger } from "../../telemetry/log.js";
import { OWNER_NAME_LABEL } from "../names.js";
import { managersOnly } from "./drift.js";

export const HPA: TypeRef = { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler" };

/** What a watched object's change is handed to: the object, and whether it is gone. */
export type ChangeHandler = (obj: KubeObject, deleted: boolean) => void;

export interface WatchDeps {
  readonly kube: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onChange: ChangeHandler;
  readonly onRestart?: (resource: string) => void;
}

/**
 * The cache transform: a live object as self-heal reads it. Of managedFields, lastManager needs
 * the managers, operations and times only; everything else stays, as drift compares whatever
 * Git sets (an annotation such as kubectl's last-applied-configuration included).
 */
export function forSelfHeal(obj: KubeObject): KubeObject {
  const entries = obj.metadata.managedFields;
  if (entries === undefined) return obj;
  obj.metadata.managedFields = managersOnly(entries);
  return obj;
}

function typeKey(type: TypeRef): string {
  return `${type.apiVersion}/${type.kind}`;
}

/**
 * One informer per kind in the inventories, started when a kind first appears and stopped when
 * no GitSync wants it any more, plus one for HorizontalPodAutoscalers (whose targets keep their
 * /spec/replicas). Informers only start from set(): nothing runs at construction.
 */
export class KindWatches {
  private readonly informers = new Map<string, Informer>();
  private hpas: Informer | undefined;
  private readonly deps: WatchDeps;

  constructor(deps: WatchDeps) {
    this.deps = deps;
  }

  /** Watches exactly these kinds from now on. */
  async set(types: readonly TypeRef[]): Promise<void> {
    this.hpas ??= this.start(HPA, false);
    const wanted = new Map(types.map((t) => [typeKey(t), t]));
    const stopping: Promise<void>[] = [];
    for (const [key, informer] of this.informers) {
      if (wanted.has(key)) continue;
      this.informers.delete(key);
      stopping.push(informer.stop());
    }
    for (const [key, type] of wanted) {
      if (!this.informers.has(key)) this.informers.set(key, this.start(type, true));
    }
    await Promise.all(stopping);
  }

  /** The cached live object, or undefined when it does not exist (or its kind is not watched). */
  live(type: TypeRef, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.informers.get(typeKey(type))?.get(name, namespace);
  }

  /** True once the kind's first list is in (before that, "absent" means "not known yet"). */
  synced(type: TypeRef): boolean {
    return this.informers.get(typeKey(type))?.synced() === true;
  }

  hpaList(): KubeObject[] {
    return this.hpas?.list() ?? [];
  }

  async stop(): Promise<void> {
    const all = [...this.informers.values(), ...(this.hpas === undefined ? [] : [this.hpas])];
    this.informers.clear();
    this.hpas = undefined;
    await Promise.all(all.map((i) => i.stop()));
  }

  private start(type: TypeRef, notify: boolean): Informer {
    const resource = `${type.kind}.${type.apiVersion}`;
    const informer = new Informer({
      client: this.deps.kube,
      type,
      clock: this.deps.clock,
      // Only objects some GitSync applied (they carry its owner label): not every Secret in the
      // cluster. An edit that strips the label looks like a delete, and the heal puts it back.
      ...(notify ? { labelSelector: OWNER_NAME_LABEL } : {}),
      transform: forSelfHeal,
      onError: (err, attempt) => {
        this.deps.onRestart?.(resource);
        this.deps.logger.warn(
          { err: errorMessage(err), attempt, resource },
          "self-heal watch restarting",
        );
      },
    });
    if (notify) {
      const { onChange } = this.deps;
      informer.on("add", (obj) => {
        onChange(obj, false);
      });
      informer.on("update", (obj) => {
        onChange(obj, false);
      });
      informer.on("delete", (obj) => {
        onChange(obj, true);
      });
    }
    informer.start();
    return informer;
  }
}
