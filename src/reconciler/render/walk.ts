import { lstat, readdir, realpath } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { ErrorCodes, GuardError } from "../../errors.js";

/** What a folder of a repository renders from: plain manifest files and Kustomize roots. */
export interface RenderPlan {
  /** Manifest files (.yaml, .yml, .json), relative to the repository root, sorted. */
  readonly files: readonly string[];
  /** Folders holding a kustomization file, relative to the repository root, sorted. */
  readonly kustomizations: readonly string[];
}

export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
const MANIFEST = /\.(ya?ml|json)$/i;

function pathError(message: string): GuardError {
  return new GuardError(ErrorCodes.RENDER_PATH_INVALID, message);
}

/** Resolves spec.path inside the checkout; anything that leaves it is refused. */
export async function resolveInside(root: string, path: string): Promise<string> {
  const realRoot = await realpath(root);
  const target = resolve(realRoot, path);
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    throw pathError(`spec.path ${JSON.stringify(path)} does not exist in the repository`);
  }
  if (real !== realRoot && !real.startsWith(realRoot + sep)) {
    throw pathError(`spec.path ${JSON.stringify(path)} leads outside the repository`);
  }
  return real;
}

/**
 * Walks dir for manifests. A folder with a kustomization file is handed to kustomize whole and
 * not walked; hidden entries (.git, .github) are skipped; a symlink is followed only when it
 * stays inside the repository, so a link to /var/run/secrets cannot put the pod's token into a
 * ConfigMap.
 */
export async function planRender(root: string, dir: string): Promise<RenderPlan> {
  const realRoot = await realpath(root);
  const files: string[] = [];
  const kustomizations: string[] = [];
  const seen = new Set<string>();
  const visit = async (current: string): Promise<void> => {
    // A symlink to a parent folder would otherwise walk for ever.
    if (seen.has(current)) return;
    seen.add(current);
    const entries = (await readdir(current)).sort();
    if (entries.some((e) => KUSTOMIZATION_FILES.includes(e))) {
      kustomizations.push(relative(realRoot, current) || ".");
      return;
    }
    for (const entry of entries) {
      if (entry.startsWith(".")) continue;
      const full = await safeEntry(realRoot, join(current, entry));
      if (full === undefined) continue;
      if ((await lstat(full)).isDirectory()) await visit(full);
      else if (MANIFEST.test(entry)) files.push(relative(realRoot, full));
    }
  };
  await visit(dir);
  return { files: files.sort(), kustomizations: kustomizations.sort() };
}

/** The real path of entry when it stays inside root; undefined for links that leave it. */
async function safeEntry(root: string, entry: string): Promise<string | undefined> {
  const info = await lstat(entry);
  if (!info.isSymbolicLink()) return entry;
  try {
    const real = await realpath(entry);
    return real.startsWith(root + sep) ? real : undefined;
  } catch {
    return undefined;
  }
}
