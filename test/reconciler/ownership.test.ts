/** Which GitSync keeps an object two of them want: the one that has it, else the older. */
import { describe, expect, it } from "vitest";
import type { GitSyncObject, InventoryEntry } from "../../src/reconciler/gitsync.js";
import { OwnershipIndex } from "../../src/reconciler/ownership.js";

const cm = (namespace: string, name: string): InventoryEntry => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  namespace,
  name,
});

function gitSync(
  namespace: string,
  name: string,
  created: string,
  inventory: InventoryEntry[],
): GitSyncObject {
  return {
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GitSync",
    metadata: { namespace, name, creationTimestamp: created },
    status: { inventory },
  };
}

describe("OwnershipIndex", () => {
  it("refuses an object another GitSync lists, and nothing else", () => {
    const index = new OwnershipIndex();
    index.update(gitSync("b", "apps", "2026-01-02T00:00:00Z", [cm("b", "shared")]));
    expect(index.conflicts("a/apps", [cm("b", "shared"), cm("a", "own")])).toEqual([
      { entry: cm("b", "shared"), owner: "b/apps" },
    ]);
    expect(index.conflicts("b/apps", [cm("b", "shared")])).toEqual([]);
  });

  it("lets exactly one of two GitSyncs that both list it keep it: the older", () => {
    const index = new OwnershipIndex();
    index.update(gitSync("a", "apps", "2026-01-01T00:00:00Z", [cm("s", "x")]));
    index.update(gitSync("b", "apps", "2026-01-02T00:00:00Z", [cm("s", "x")]));
    expect(index.conflicts("a/apps", [cm("s", "x")])).toEqual([]);
    expect(index.conflicts("b/apps", [cm("s", "x")])).toEqual([
      { entry: cm("s", "x"), owner: "a/apps" },
    ]);
  });

  it("forgets a deleted GitSync's claims, and an updated inventory's old ones", () => {
    const index = new OwnershipIndex();
    index.update(gitSync("b", "apps", "2026-01-02T00:00:00Z", [cm("b", "x"), cm("b", "y")]));
    index.update(gitSync("b", "apps", "2026-01-02T00:00:00Z", [cm("b", "y")]));
    expect(index.conflicts("a/apps", [cm("b", "x")])).toEqual([]);
    index.remove("b/apps");
    expect(index.conflicts("a/apps", [cm("b", "y")])).toEqual([]);
  });
});
