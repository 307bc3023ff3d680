import { access, readFile, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCodes, GuardError } from "../../errors.js";
import { decryptedCopy, findSopsFiles } from "./decrypted-copy.js";
import { kustomizeBuild, type KustomizeSettings } from "./kustomize.js";
import { isSopsDocument, locate, parseManifests, type RenderedObject } from "./manifests.js";
import { isSopsFile, type SopsFiles } from "./sops.js";
import { planRender, resolveInside, type RenderPlan } from "./walk.js";
import { renderChart, renderRepoChart, type HelmContext } from "../helm/render.js";
import type { HelmReleaseStatus } from "../gitsync.js";

export interface RenderInput {
  /** The checkout's root. */
  readonly root: string;
  /** spec.path, relative to root. */
  readonly path: string;
  readonly kustomize: KustomizeSettings;
  /** The GitSync's SOPS keys; absent when spec.decryption is not set. */
  readonly sops?: SopsFiles;
  /** Where a decrypted copy for kustomize may be made (tmpfs when there is one). */
  readonly scratchDir: string;
  /** For a chart at spec.path (a folder holding Chart.yaml). */
  readonly helm?: HelmContext;
  /** Told what a Helm render rendered (for the GitSync's status). */
  readonly onHelm?: (release: HelmReleaseStatus) => void;
}

// One manifest file larger than this is not configuration; refuse it instead of running out of memory.
const MAX_FILE_BYTES = 8 * 1024 * 1024;

function notConfigured(file: string): GuardError {
  return new GuardError(
    ErrorCodes.RENDER_SOPS_UNAVAILABLE,
    `${file} is SOPS-encrypted and spec.decryption.secretRef is not set`,
  );
}

/** Reads one manifest file; a SOPS file is decrypted in memory (MAC verified) first. */
async function readManifest(input: RenderInput, file: string): Promise<RenderedObject[]> {
  const full = join(input.root, file);
  if ((await stat(full)).size > MAX_FILE_BYTES) {
    throw new GuardError(
      ErrorCodes.RENDER_OBJECT_INVALID,
      `${file} is larger than ${MAX_FILE_BYTES} bytes`,
    );
  }
  const content = await readFile(full);
  if (!isSopsFile(file, content)) return parseManifests(content.toString("utf8"), file);
  if (input.sops === undefined) throw notConfigured(file);
  const plain = await input.sops.decrypt(file, content);
  return parseManifests(
    typeof plain === "string" ? plain : Buffer.from(plain).toString("utf8"),
    file,
  );
}

/** Builds every Kustomize root, from a decrypted copy when the repository holds SOPS files. */
async function buildKustomizations(
  input: RenderInput,
  plan: RenderPlan,
): Promise<RenderedObject[]> {
  if (plan.kustomizations.length === 0) return [];
  const encrypted = await findSopsFiles(input.root);
  const copy =
    encrypted.length === 0
      ? undefined
      : await decryptedCopy(input.root, encrypted, input.sops, input.scratchDir);
  const root = copy?.root ?? input.root;
  try {
    const items: RenderedObject[] = [];
    for (const dir of plan.kustomizations) {
      items.push(...(await kustomizeBuild(root, dir, input.kustomize)));
    }
    return items;
  } finally {
    await copy?.remove();
  }
}

/** A document still carrying SOPS metadata after rendering would be applied as ciphertext. */
function refuseEncrypted(items: readonly RenderedObject[]): void {
  const left = items.find((item) => isSopsDocument(item.object));
  if (left === undefined) return;
  throw new GuardError(
    ErrorCodes.RENDER_SOPS_FAILED,
    `${locate(left)}: ${left.object.kind} ${left.object.metadata.name ?? ""} is still SOPS-encrypted ` +
      "after rendering (only whole .yaml, .json, .env and .ini files are decrypted)",
  );
}

/**
 * Renders spec.path of a checkout: plain manifest files in path order, then each Kustomize root.
 * SOPS files are decrypted, MAC verified, before they are parsed or built. Every error names
 * the file (and line when there is one).
 */
export async function renderSource(input: RenderInput): Promise<RenderedObject[]> {
  const chart = input.helm?.spec?.chart;
  if (input.helm !== undefined && chart !== undefined) {
    const rendered = await renderRepoChart({
      root: await realpath(input.root),
      chart,
      helm: input.helm,
      ...(input.sops === undefined ? {} : { sops: input.sops }),
    });
    refuseEncrypted(rendered.items);
    input.onHelm?.({
      chart: chart.name,
      version: rendered.pulled.version,
      digest: rendered.pulled.digest,
      repoURL: chart.repoURL,
      valuesDigest: rendered.valuesDigest,
    });
    return rendered.items;
  }
  const dir = await resolveInside(input.root, input.path);
  if (await isChart(dir)) return renderChartAt(input, dir);
  const plan = await planRender(input.root, dir);
  const items: RenderedObject[] = [];
  for (const file of plan.files) items.push(...(await readManifest(input, file)));
  items.push(...(await buildKustomizations(input, plan)));
  refuseEncrypted(items);
  return items;
}

/** spec.path is a Helm chart: it holds Chart.yaml. */
async function isChart(dir: string): Promise<boolean> {
  try {
    await access(join(dir, "Chart.yaml"));
    return true;
  } catch {
    return false;
  }
}

async function renderChartAt(input: RenderInput, dir: string): Promise<RenderedObject[]> {
  if (input.helm === undefined) {
    throw new GuardError(
      ErrorCodes.RENDER_HELM_FAILED,
      `${input.path} is a Helm chart, and helm is not configured`,
    );
  }
  const rendered = await renderChart({
    root: await realpath(input.root),
    chartDir: dir,
    helm: input.helm,
    ...(input.sops === undefined ? {} : { sops: input.sops }),
    scratchDir: input.scratchDir,
  });
  refuseEncrypted(rendered.items);
  input.onHelm?.({ ...rendered.chart, valuesDigest: rendered.valuesDigest });
  return rendered.items;
}
