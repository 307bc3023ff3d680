/** Which of a file's keys the caller's key material opens (`gitops-guard sops check`). */
import { inDecryptionOrder, openMasterKey, type KeyAttempt, type SopsKeys } from "./data-key.js";
import { parseSopsFile, type SopsInput } from "./decrypt.js";
import type { SopsFormat } from "./formats.js";
import { describeKey } from "./metadata.js";

export interface SopsCheck {
  readonly name: string;
  readonly format: SopsFormat;
  /** Every key of every group, in decryption order; groups in file order. */
  readonly keys: readonly (KeyAttempt & { readonly group: number })[];
  /** Whether enough keys open for the data key (one per group, or the Shamir threshold). */
  readonly canDecrypt: boolean;
}

/**
 * Tries every key on its own, without decrypting any value or checking the MAC. Rejects only
 * when the file itself cannot be read (GuardError naming the file).
 */
export async function checkSops(input: SopsInput, keys: SopsKeys): Promise<SopsCheck> {
  const parsed = parseSopsFile(input);
  const { keyGroups, shamirThreshold } = parsed.metadata;
  const results: (KeyAttempt & { group: number })[] = [];
  let groupsOpened = 0;
  for (const [group, members] of keyGroups.entries()) {
    let opened = false;
    for (const key of inDecryptionOrder(members)) {
      try {
        await openMasterKey(key, keys);
        results.push({ key: describeKey(key), opened: true, group });
        opened = true;
      } catch (err: unknown) {
        const reason = err instanceof Error ? err.message : String(err);
        results.push({ key: describeKey(key), opened: false, reason, group });
      }
    }
    if (opened) groupsOpened += 1;
  }
  const needed = keyGroups.length > 1 ? Math.max(shamirThreshold, 2) : 1;
  return {
    name: input.name,
    format: parsed.format,
    keys: results,
    canDecrypt: groupsOpened >= needed,
  };
}
