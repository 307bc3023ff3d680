/** Admission's tenancy rule: a GitSync's account is a reconciler only for what its GitSync owns. */
import { describe, expect, it } from "vitest";
import { buildWriterIndex } from "../../src/admission/gitsync-writers.js";
import { matchConditions } from "../../src/admission/vap/rules.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { gitSyncAccount } from "../../src/presets/gitsync-identity.js";
import { core, defaultPolicy, deployment, NOW, request, type Actor } from "./helpers.js";

const SETTINGS = { defaultServiceAccount: "default", controllerNamespace: "gitops-guard-system" };

function gitSync(
  namespace: string,
  name: string,
  inventory: { apiVersion: string; kind: string; namespace?: string; name: string }[],
  serviceAccountName?: string,
): KubeObject {
  return {
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GitSync",
    metadata: { namespace, name },
    spec: {
      url: "https://git.example.com/r.git",
      ...(serviceAccountName === undefined ? {} : { serviceAccountName }),
    },
    status: { inventory },
  };
}

const sa = (ns: string, name: string): Actor => ({
  username: `system:serviceaccount:${ns}:${name}`,
  groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"],
});

const web = (namespace: string) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  namespace,
  name: "web",
});

// team-a's account may (by RBAC) write shop, where team-b's GitSync owns Deployment web.
const index = buildWriterIndex(
  [
    gitSync("team-a", "apps", [web("team-a")], "deployer"),
    gitSync("team-b", "apps", [{ ...web("shop"), apiVersion: "apps/v1" }], "deployer"),
    gitSync("team-c", "apps", []),
    gitSync("gitops-guard-system", "platform", [web("platform")]),
  ],
  SETTINGS,
);

describe("which GitSync identity may write which object", () => {
  it("names the account: spec.serviceAccountName, else the default, else the reconciler's own", () => {
    expect(gitSyncAccount({ namespace: "t", serviceAccountName: "x" }, SETTINGS)?.username).toBe(
      "system:serviceaccount:t:x",
    );
    expect(gitSyncAccount({ namespace: "t" }, SETTINGS)?.username).toBe(
      "system:serviceaccount:t:default",
    );
    expect(gitSyncAccount({ namespace: "gitops-guard-system" }, SETTINGS)).toBeUndefined();
    expect(gitSyncAccount({ namespace: "t" }, { controllerNamespace: "g" })).toBeUndefined();
  });

  it("its own inventory, and unowned objects of its own namespace", () => {
    const a = sa("team-a", "deployer").username;
    expect(index.writerFor(a, web("team-a"))).toBe("team-a/apps");
    expect(index.writerFor(a, { ...web("team-a"), name: "new" })).toBe("team-a/apps");
    // Another version of the same kind is the same object.
    expect(index.writerFor(a, { ...web("team-a"), apiVersion: "apps/v1beta2" })).toBe(
      "team-a/apps",
    );
  });

  it("never another GitSync's object, nor other namespaces, nor cluster-scoped objects it does not own", () => {
    const a = sa("team-a", "deployer").username;
    expect(index.writerFor(a, web("shop"))).toBeUndefined();
    expect(index.writerFor(a, { ...web("shop"), name: "unowned" })).toBeUndefined();
    const crb = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      name: "x",
    };
    expect(index.writerFor(a, crb)).toBeUndefined();
    expect(index.writerFor(sa("team-b", "deployer").username, web("shop"))).toBe("team-b/apps");
    expect(index.writerFor("alice", web("team-a"))).toBeUndefined();
  });

  it("the default account for a GitSync that names none", () => {
    expect(index.writerFor(sa("team-c", "default").username, web("team-c"))).toBe("team-c/apps");
    expect(index.writerFor(sa("team-c", "deployer").username, web("team-c"))).toBeUndefined();
  });

  it("lists each identity with its namespace for the CEL backstop", () => {
    expect(index.writers()).toEqual([
      { namespace: "team-a", username: "system:serviceaccount:team-a:deployer" },
      { namespace: "team-b", username: "system:serviceaccount:team-b:deployer" },
      { namespace: "team-c", username: "system:serviceaccount:team-c:default" },
    ]);
    const conditions = matchConditions(defaultPolicy(), index.writers());
    const cel = conditions.find((c) => c.name === "not-gitsync-in-own-namespace");
    expect(cel?.expression).toContain('"team-a/system:serviceaccount:team-a:deployer"');
    expect(matchConditions(defaultPolicy(), []).map((c) => c.name)).not.toContain(
      "not-gitsync-in-own-namespace",
    );
  });
});

describe("an inventory entry is a claim, not proof (anyone with gitsyncs/status writes it)", () => {
  // team-a wrote team-b's Deployment web into its own GitSync's status.inventory.
  const claimed = buildWriterIndex(
    [
      gitSync("team-a", "apps", [web("team-a"), web("shop")], "deployer"),
      gitSync("team-b", "apps", [web("shop")], "deployer"),
      gitSync("team-d", "apps", [{ ...web("team-b"), name: "team-b-only" }], "deployer"),
    ],
    SETTINGS,
  );
  const a = sa("team-a", "deployer").username;
  const b = sa("team-b", "deployer").username;
  const ownedBy = (namespace: string) => ({
    "gitops-guard.io/gitsync-name": "apps",
    "gitops-guard.io/gitsync-namespace": namespace,
  });

  it("trusts, of two claimants, only the one whose owner labels the object carries", () => {
    expect(claimed.writerFor(a, web("shop"), ownedBy("team-b"))).toBeUndefined();
    expect(claimed.writerFor(b, web("shop"), ownedBy("team-b"))).toBe("team-b/apps");
    expect(claimed.writerFor(a, web("shop"), ownedBy("team-a"))).toBe("team-a/apps");
    expect(claimed.writerFor(b, web("shop"), ownedBy("team-a"))).toBeUndefined();
  });

  it("trusts neither when the object as it is is unknown or unlabelled", () => {
    expect(claimed.writerFor(a, web("shop"))).toBeUndefined();
    expect(claimed.writerFor(b, web("shop"))).toBeUndefined();
    expect(claimed.writerFor(b, web("shop"), {})).toBeUndefined();
    expect(claimed.writerFor(b, web("shop"), ownedBy("team-z"))).toBeUndefined();
  });

  it("does not trust a sole claimant with an object labelled as another GitSync's", () => {
    const only = { ...web("team-b"), name: "team-b-only" };
    const d = sa("team-d", "deployer").username;
    expect(claimed.writerFor(d, only, ownedBy("team-b"))).toBeUndefined();
    expect(claimed.writerFor(d, only, ownedBy("team-d"))).toBe("team-d/apps");
    expect(claimed.writerFor(d, only)).toBe("team-d/apps");
    // An object no GitSync claims stays its own namespace's GitSync's, labels or not.
    expect(claimed.writerFor(a, { ...web("team-a"), name: "new" })).toBe("team-a/apps");
  });

  it("decide() reads the labels from the review's oldObject", () => {
    const decideAs = (actor: Actor) =>
      core.decide(
        request({
          actor,
          namespace: "shop",
          object: { ...deployment({}, { image: "web:2" }), metadata: { name: "web" } },
          oldObject: {
            ...deployment(),
            metadata: { name: "web", namespace: "shop", labels: ownedBy("team-b") },
          },
        }),
        [defaultPolicy()],
        NOW,
        {
          locate: () => undefined,
          gitSyncWriter: (user, ref, labels) => claimed.writerFor(user, ref, labels),
        },
      );
    expect(decideAs(sa("team-a", "deployer")).effect).toBe("deny");
    expect(decideAs(sa("team-b", "deployer")).reason).toBe("Reconciler");
  });
});

describe("decide() with GitSync identities", () => {
  const policy = defaultPolicy();
  const context = {
    locate: () => undefined,
    gitSyncWriter: (user: string, ref: Parameters<typeof index.writerFor>[1]) =>
      index.writerFor(user, ref),
  };
  const edit = (actor: Actor, namespace: string) =>
    core.decide(
      request({
        actor,
        namespace,
        object: { ...deployment({}, { image: "web:2" }), metadata: { name: "web", namespace } },
        oldObject: { ...deployment(), metadata: { name: "web", namespace } },
      }),
      [policy],
      NOW,
      context,
    );

  it("accepts a tenant's account for its own objects as a reconciler", () => {
    const decision = edit(sa("team-a", "deployer"), "team-a");
    expect(decision.effect).toBe("allow");
    expect(decision.reason).toBe("Reconciler");
    expect(decision.message).toContain("GitSync team-a/apps");
  });

  it("judges it as anyone else on another tenant's object, even where RBAC would let it", () => {
    const decision = edit(sa("team-a", "deployer"), "shop");
    expect(decision.effect).toBe("deny");
    expect(decision.reason).toBe("OutOfBandChange");
  });
});
