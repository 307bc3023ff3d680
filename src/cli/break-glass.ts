/**
 * `gitops-guard break-glass KIND/NAME -n NS --reason R --for DURATION` (or `--end`): sets (or
 * removes) the three break-glass annotations in one merge patch, the holder being the caller as
 * the API server knows them (a SelfSubjectReview). The webhook decides whether the caller may;
 * this command grants nothing. The Kubernetes client is loaded only when the command runs.
 */
import type { Command } from "commander";
import type { DiscoveredResource, Target } from "../admission/break-glass-request.js";
import type { Environment } from "../config.js";
import { ErrorCodes, GuardError } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import type { ObjectRef } from "../kube/objects.js";
import { realClock, type Clock } from "../runtime/clock.js";
import { contextNamespace, kubeconfigFiles } from "./kubeconfig.js";
import type { CliOutput, ProgramDeps } from "./program.js";

export interface BreakGlassFlags {
  readonly namespace?: string;
  readonly reason?: string;
  readonly for?: string;
  readonly end?: boolean;
  readonly dryRun?: boolean;
  readonly kubeconfig?: string;
}

export interface BreakGlassDeps {
  readonly env: Environment;
  readonly output: CliOutput;
  readonly clock?: Clock;
}

const FIELD_MANAGER = "gitops-guard-break-glass";

function invalid(message: string): GuardError {
  return new GuardError(ErrorCodes.BREAK_GLASS_INVALID, message);
}

async function whoAmI(kube: KubeClient): Promise<string> {
  const review = await kube.create<{
    apiVersion: string;
    kind: string;
    metadata: object;
    status?: { userInfo?: { username?: string } };
  }>({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview", metadata: {} });
  const username = review.status?.userInfo?.username;
  if (username === undefined || username === "") {
    throw invalid("the API server did not say who you are (SelfSubjectReview)");
  }
  return username;
}

interface ResourceList {
  readonly groupVersion?: string;
  readonly resources?: readonly Record<string, unknown>[];
}

/** Every resource the API server serves at its preferred versions, core group first. */
async function discover(kube: KubeClient): Promise<DiscoveredResource[]> {
  const groups = await kube.rest.json<{
    groups?: { preferredVersion?: { groupVersion?: string } }[];
  }>({
    method: "GET",
    path: "/apis",
  });
  const versions = [
    "v1",
    ...(groups.groups ?? []).flatMap((g) => g.preferredVersion?.groupVersion ?? []),
  ];
  const lists = await Promise.all(
    versions.map((gv) =>
      kube.rest.json<ResourceList>({
        method: "GET",
        path: gv === "v1" ? "/api/v1" : `/apis/${gv}`,
      }),
    ),
  );
  return lists.flatMap((list, i) =>
    (list.resources ?? []).map((r) => ({
      ...(r as { name: string; kind: string; namespaced: boolean }),
      groupVersion: versions[i] ?? "v1",
    })),
  );
}

function windowOf(flags: BreakGlassFlags, parse: (text: string) => number | undefined): number {
  if (flags.reason === undefined || flags.reason.trim() === "") {
    throw invalid("--reason is required (a ticket id the policy's reasonPattern accepts)");
  }
  const ms = flags.for === undefined ? undefined : parse(flags.for);
  if (ms === undefined || ms <= 0) {
    throw invalid(`--for must be a duration like 30m or 2h, not "${flags.for ?? ""}"`);
  }
  return ms;
}

interface Resolved {
  readonly ref: ObjectRef;
  readonly by: string;
}

/** The object the target names (its kind resolved by discovery) and who is asking. */
async function resolve(
  kube: KubeClient,
  target: Target,
  flags: BreakGlassFlags,
  files: readonly string[] | undefined,
): Promise<Resolved> {
  const requests = await import("../admission/break-glass-request.js");
  const [resources, by] = await Promise.all([discover(kube), whoAmI(kube)]);
  const found = requests.matchResource(target, resources);
  const base = { apiVersion: found.groupVersion, kind: found.kind, name: target.name };
  if (!found.namespaced) return { ref: base, by };
  return { ref: { ...base, namespace: flags.namespace ?? (await contextNamespace(files)) }, by };
}

function report(
  targetText: string,
  resolved: Resolved,
  flags: BreakGlassFlags,
  expires: string,
): string {
  const { ref, by } = resolved;
  const ns = ref.namespace === undefined ? "" : ` -n ${ref.namespace}`;
  const where = `${ref.kind} ${ref.namespace === undefined ? "" : `${ref.namespace}/`}${ref.name}`;
  const dry = flags.dryRun === true ? " (dry run)" : "";
  if (flags.end === true) return `break-glass ended on ${where} by ${by}${dry}.\n`;
  return (
    `break-glass on ${where} held by ${by} until ${expires} (${flags.reason ?? ""})${dry}.\n` +
    `Make the change now; end it early with: gitops-guard break-glass ${targetText}${ns} --end\n`
  );
}

export async function runBreakGlass(
  targetText: string,
  flags: BreakGlassFlags,
  deps: BreakGlassDeps,
): Promise<void> {
  const [requests, { parseDuration }, { rfc3339 }, { createKubeClient }] = await Promise.all([
    import("../admission/break-glass-request.js"),
    import("../admission/duration.js"),
    import("../runtime/conditions.js"),
    import("../kube/client.js"),
  ]);
  const target = requests.parseTarget(targetText);
  const ending = flags.end === true;
  const windowMs = ending ? 0 : windowOf(flags, parseDuration);
  const files = kubeconfigFiles(flags.kubeconfig, deps.env);
  const kube = createKubeClient(files === undefined ? {} : { kubeconfig: files });
  const resolved = await resolve(kube, target, flags, files);
  const expires = rfc3339((deps.clock ?? realClock()).now() + windowMs);
  const patch = ending
    ? requests.endMarkPatch()
    : requests.setMarkPatch({ reason: flags.reason ?? "", expires, by: resolved.by });
  await kube.mergePatch(resolved.ref, patch, {
    fieldManager: FIELD_MANAGER,
    dryRun: flags.dryRun === true,
  });
  deps.output.writeOut(report(targetText, resolved, flags, expires));
}

export function addBreakGlassCommand(program: Command, deps: ProgramDeps): void {
  program
    .command("break-glass")
    .description(
      "Mark a guarded object for an out-of-band change in an incident: sets the break-glass " +
        "annotations (reason, expiry, and you as the holder) in one request. The admission " +
        "webhook admits it only for members of the GuardPolicy's break-glass groups, with a " +
        "reason matching its pattern and an expiry within its maxDuration; every use is recorded.",
    )
    .argument("<target>", "KIND/NAME, e.g. deployment/web or deployments.apps/web")
    .option("-n, --namespace <ns>", "the object's namespace (default: the context's)")
    .option("--reason <text>", "why, e.g. a ticket id (must match the policy's reasonPattern)")
    .option("--for <duration>", "how long, e.g. 30m or 2h (at most the policy's maxDuration)")
    .option("--end", "end your break-glass now: remove the annotations")
    .option("--dry-run", "ask the API server (and the webhook) without changing anything")
    .option("--kubeconfig <file>", "kubeconfig (default: $KUBECONFIG, ~/.kube/config)")
    .action(async (target: string, _options: unknown, command: Command) => {
      await runBreakGlass(target, command.opts<BreakGlassFlags>(), {
        env: deps.env,
        output: deps.output ?? {
          writeOut: (text) => process.stdout.write(text),
          writeErr: (text) => process.stderr.write(text),
        },
      });
    });
}
