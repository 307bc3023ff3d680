/**
 * `gitops-guard diff`: what a sync of one GitSync would change, live against Git. Fetches and
 * renders the revision exactly as a sync does, asks the API server for a dry-run of every apply
 * (field manager gitops-guard, so admission and defaulting answer as for the real sync), and
 * compares with the live objects; lists what prune would delete. Changes nothing.
 *
 * Two identities, as in a sync: fetching and rendering (Git credentials, SOPS keys, valuesFrom)
 * use env.kube; dry-runs and every live read (objects, HPAs, prune candidates) use env.actor,
 * the GitSync's account, so the diff shows what that account may do.
 */
import type { KubeClient } from "../../kube/client.js";
import { ErrorCodes, errorMessage, isGuardError } from "../../errors.js";
import { FIELD_MANAGER } from "../../kube/client.js";
import type { KubeObject } from "../../kube/objects.js";
import { pruneCandidates, pruneVerdict } from "../apply/prune-plan.js";
import { settleLimited } from "../concurrency.js";
import type { DesiredObject } from "../desired.js";
import { parseGitSyncSpec, type GitSyncObject, type InventoryEntry } from "../gitsync.js";
import { fetchAndRender, stageCause, type RenderEnvironment } from "../sync.js";
import { HPA } from "../selfheal/watches.js";
import { parseIgnoreRules } from "../selfheal/policy.js";
import { objectChange, objectId, type ObjectChange } from "./changes.js";
import { syncedShape, type ShapeInputs } from "./shape.js";

export interface Preview {
  readonly revision: string;
  readonly changes: readonly ObjectChange[];
  /** Objects a sync would delete (prune on, owned by this GitSync, not prune-disabled). */
  readonly prunes: readonly string[];
  /** Objects the API server would refuse, with its reason. */
  readonly refused: readonly string[];
}

const CONCURRENCY = 8;

export interface PreviewEnvironment extends RenderEnvironment {
  /** Who dry-runs the applies and reads live objects (the GitSync's account); default kube. */
  readonly actor?: KubeClient;
}

function actorOf(env: PreviewEnvironment): KubeClient {
  return env.actor ?? env.kube;
}

async function change(
  env: PreviewEnvironment,
  desired: DesiredObject,
  inputs: ShapeInputs,
): Promise<ObjectChange> {
  const kube = actorOf(env);
  const live = await kube.get(desired.ref);
  try {
    const next = await kube.apply(syncedShape(desired.object, live, inputs), {
      fieldManager: FIELD_MANAGER,
      force: true,
      dryRun: true,
    });
    return objectChange(live, next);
  } catch (err: unknown) {
    // Its namespace or its CRD comes in the same sync: the server cannot dry-run it yet, so
    // Git's manifest stands in for the server's answer.
    if (live === undefined && isGuardError(err, ErrorCodes.KUBE_NOT_FOUND)) {
      return objectChange(undefined, desired.object);
    }
    throw err;
  }
}

/**
 * The HorizontalPodAutoscalers the actor may list: every namespace, else (a tenant account) the
 * namespaces of the desired objects; none where not allowed (diff still works).
 */
async function hpasOf(
  env: PreviewEnvironment,
  desired: readonly DesiredObject[],
): Promise<KubeObject[]> {
  const kube = actorOf(env);
  const all = await kube.list<KubeObject>(HPA).catch(() => undefined);
  if (all !== undefined) return all.items;
  const namespaces = [...new Set(desired.map((d) => d.ref.namespace ?? ""))].filter(Boolean);
  const lists = await Promise.all(
    namespaces.map((namespace) =>
      kube.list<KubeObject>(HPA, { namespace }).then(
        (l) => l.items,
        () => [],
      ),
    ),
  );
  return lists.flat();
}

async function prunes(
  env: PreviewEnvironment,
  gitSync: { namespace: string; name: string },
  previous: readonly InventoryEntry[],
  desired: readonly DesiredObject[],
): Promise<string[]> {
  const candidates = pruneCandidates(previous, new Set(desired.map((d) => d.key)));
  const kube = actorOf(env);
  const lives = await Promise.all(candidates.map((c) => kube.get<KubeObject>(c)));
  return lives
    .filter((live): live is KubeObject => live !== undefined)
    .filter((live) => pruneVerdict(live, gitSync) === "delete")
    .map(objectId);
}

export async function previewGitSync(
  env: PreviewEnvironment,
  obj: GitSyncObject,
  signal: AbortSignal,
): Promise<Preview> {
  const namespace = obj.metadata.namespace ?? "";
  const name = obj.metadata.name ?? "";
  const spec = parseGitSyncSpec(obj);
  const { fetched, desired } = await fetchAndRender(env, { namespace, name, spec, signal }).catch(
    (err: unknown) => {
      throw stageCause(err);
    },
  );
  const inputs = { rules: parseIgnoreRules(obj.spec), hpas: await hpasOf(env, desired) };
  const results = await settleLimited(desired, CONCURRENCY, (d) => change(env, d, inputs));
  const changes: ObjectChange[] = [];
  const refused: string[] = [];
  results.forEach((result, i) => {
    if (result.status === "fulfilled") changes.push(result.value);
    else refused.push(`${objectId(desired[i]?.object ?? obj)}: ${errorMessage(result.reason)}`);
  });
  const previous = obj.status?.inventory ?? [];
  return {
    revision: fetched.revision,
    changes,
    prunes: spec.prune ? await prunes(env, { namespace, name }, previous, desired) : [],
    refused,
  };
}
