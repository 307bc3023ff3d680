/**
 * A private copy of the checkout to render a chart from. helm loads every file of a chart into
 * .Files and follows symlinks, so a chart in Git with a link to the pod's service account token
 * could template it into a ConfigMap: links that leave the repository are not copied. The copy
 * is also where `helm dependency build` may write (charts/, Chart.lock) without touching the
 * checkout. It lives under scratchDir and is removed after the render.
 */
import { cp, lstat, mkdir, mkdtemp, realpath, rm } from "node:fs/promises";
import { join, relative, sep } from "node:path";

export interface ChartCopy {
  readonly root: string;
  remove(): Promise<void>;
}

async function staysInside(root: string, source: string): Promise<boolean> {
  if (relative(root, source).split(sep).includes(".git")) return false;
  if (!(await lstat(source)).isSymbolicLink()) return true;
  try {
    const real = await realpath(source);
    return real === root || real.startsWith(root + sep);
  } catch {
    return false;
  }
}

export async function chartCopy(checkout: string, scratchDir: string): Promise<ChartCopy> {
  const root = await realpath(checkout);
  await mkdir(scratchDir, { recursive: true, mode: 0o700 });
  const copy = await mkdtemp(join(scratchDir, "gitops-guard-helm-"));
  const remove = (): Promise<void> => rm(copy, { recursive: true, force: true });
  try {
    await cp(root, copy, {
      recursive: true,
      // Relative links stay relative, so they resolve inside the copy as in the checkout.
      verbatimSymlinks: true,
      filter: (source) => staysInside(root, source),
    });
  } catch (err: unknown) {
    await remove();
    throw err;
  }
  return { root: copy, remove };
}
