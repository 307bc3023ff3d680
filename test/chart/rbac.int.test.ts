/**
 * The chart's RBAC on the real API server: each service account can do what its component
 * needs and nothing more (rbac-table.ts), asked with `kubectl auth can-i --as`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { eventually, testNamespace } from "../envtest/context.js";
import { GO_TOOL_BUILD_TIMEOUT_MS } from "../tools/go-tools.js";
import { canI, ensureBitnamiCrd, installRbac } from "./cluster.js";
import { accessTable, may, mayNot, readerTable, readerValues, type Check } from "./rbac-table.js";

function describeCheck(sa: string, check: Check): string {
  const where = check.namespace === undefined ? "cluster-wide" : `-n ${check.namespace}`;
  const sub = check.subresource === undefined ? "" : `/${check.subresource}`;
  return `${check.allow ? "may" : "may not"} ${check.verb} ${check.resource}${sub} ${where} as ${sa.split("/")[1]!}: ${check.why}`;
}

/**
 * The checks whose answer is wrong, once RBAC settled: the authorizer learns new roles through
 * an informer, so a wrong answer is asked again for a few seconds before it counts.
 */
async function wrongAnswers(table: Readonly<Record<string, readonly Check[]>>): Promise<string[]> {
  let wrong: string[] = [];
  await eventually(
    "every answer to be right",
    async () => {
      wrong = [];
      for (const [sa, checks] of Object.entries(table)) wrong.push(...(await answers(sa, checks)));
      return wrong.length === 0;
    },
    10_000,
  ).catch(() => undefined);
  return wrong;
}

/** Runs checks a few at a time: each is one kubectl process. */
async function answers(sa: string, checks: readonly Check[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < checks.length; i += 4) {
    const batch = checks.slice(i, i + 4);
    const got = await Promise.all(batch.map((check) => canI(sa, check)));
    batch.forEach((check, j) => {
      if (got[j] !== check.allow) out.push(describeCheck(sa, check));
    });
  }
  return out;
}

describe("the chart's service accounts on the real API server", () => {
  // Bitnami's kind is asked about (denied by default, granted with the opt-in).
  beforeAll(ensureBitnamiCrd, GO_TOOL_BUILD_TIMEOUT_MS);

  it("each may do what its component needs and nothing more", async () => {
    const ns = await testNamespace("rbac");
    const other = await testNamespace("apps");
    // The release is named after the namespace: its ClusterRoles are this test's alone.
    const release = ns;
    await installRbac(release, ns);
    const table = accessTable({ ns, other, fullname: `${release}-gitops-guard` });
    expect(await wrongAnswers(table)).toEqual([]);
  });

  it("bind the journal and metrics reader roles to the subjects values name", async () => {
    const ns = await testNamespace("rbacr");
    const other = await testNamespace("mon");
    const names = { ns, other, fullname: `${ns}-gitops-guard` };
    await installRbac(ns, ns, readerValues(names));
    expect(await wrongAnswers(readerTable(names))).toEqual([]);
  });

  it("follow values: a narrower apply role for Git, Bitnami's kind for the secrets account", async () => {
    const ns = await testNamespace("rbacv");
    const other = await testNamespace("apps");
    const values = {
      reconciler: { clusterRole: "view" },
      controller: { bitnamiSealedSecrets: true },
    };
    await installRbac(ns, ns, values);
    const sa = (c: string): string => `${ns}/${ns}-gitops-guard-${c}`;
    const table = {
      [sa("reconciler")]: [
        mayNot("create deployments.apps", other, "only what the named role allows"),
        may("watch deployments.apps", undefined, "the named role (view) reads"),
        may("patch gitsyncs.gitops-guard.io:status", other, "GitSyncs keep working"),
        may("get secrets", other, "Git credentials, which view alone cannot read"),
      ],
      [sa("secrets")]: [
        may("watch sealedsecrets.bitnami.com", undefined, "the opt-in"),
        may("patch sealedsecrets.bitnami.com:status", other, "the opt-in"),
      ],
    };
    expect(await wrongAnswers(table)).toEqual([]);
  });
});
