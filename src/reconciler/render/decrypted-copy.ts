import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { ErrorCodes, GuardError } from "../../errors.js";
import { isSopsFile, type SopsFiles } from "./sops.js";

// Files this large are not configuration; they are never read to look for SOPS metadata.
const MAX_SCAN_BYTES = 8 * 1024 * 1024;

/** Repository files (relative, hidden entries skipped) that are SOPS-encrypted. */
export async function findSopsFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const full = join(dir, entry.name);
      // Symlinks are not followed: what they point to is not the repository's to decrypt.
      if (entry.isDirectory()) await visit(full);
      else if (entry.isFile() && (await stat(full)).size <= MAX_SCAN_BYTES) {
        if (isSopsFile(entry.name, await readFile(full))) found.push(relative(root, full));
      }
    }
  };
  await visit(root);
  return found.sort();
}

export interface DecryptedCopy {
  /** The copy's root: the repository with every SOPS file replaced by its plaintext. */
  readonly root: string;
  remove(): Promise<void>;
}

/**
 * kustomize reads files itself, so a kustomization that uses SOPS files (resources, or env
 * files of a secretGenerator) is built from a private copy of the checkout with those files
 * decrypted. The copy lives under scratchDir (tmpfs /dev/shm when there is one, so plaintext
 * does not reach a disk), is readable only by this process, and is removed after the build.
 */
export async function decryptedCopy(
  root: string,
  files: readonly string[],
  sops: SopsFiles | undefined,
  scratchDir: string,
): Promise<DecryptedCopy> {
  if (sops === undefined) {
    throw new GuardError(
      ErrorCodes.RENDER_SOPS_UNAVAILABLE,
      `${files[0] ?? "a file"} is SOPS-encrypted and spec.decryption.secretRef is not set`,
    );
  }
  await mkdir(scratchDir, { recursive: true, mode: 0o700 });
  const copy = await mkdtemp(join(scratchDir, "gitops-guard-render-"));
  const remove = (): Promise<void> => rm(copy, { recursive: true, force: true });
  try {
    await cp(root, copy, {
      recursive: true,
      // Relative links stay relative, so they resolve inside the copy as they did in the checkout.
      verbatimSymlinks: true,
      filter: (source) => !relative(root, source).split("/").includes(".git"),
    });
    for (const file of files) {
      const plain = await sops.decrypt(file, await readFile(join(root, file)));
      await writeFile(join(copy, file), plain, { mode: 0o600 });
    }
  } catch (err: unknown) {
    await remove();
    throw err;
  }
  return { root: copy, remove };
}
