/**
 * The real helm binary (built once by test/tools/go-tools.ts) run against charts/gitops-guard:
 * lint and template, with values given as an object (written to a file: --set cannot express
 * lists of objects without escaping).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../src/kube/objects.js";
import { ensureGoTool } from "../tools/go-tools.js";

export const CHART_DIR = fileURLToPath(new URL("../../charts/gitops-guard", import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface HelmResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RenderOptions {
  readonly release?: string;
  readonly namespace?: string;
  readonly values?: Record<string, unknown>;
  /** helm template --include-crds. */
  readonly crds?: boolean;
}

/** Runs helm with args, plus `--values FILE` when values are given; never throws on status. */
export function helm(args: readonly string[], values?: Record<string, unknown>): HelmResult {
  const dir = mkdtempSync(join(tmpdir(), "gg-helm-"));
  try {
    const valueArgs: string[] = [];
    if (values !== undefined) {
      // JSON is YAML: no serialiser needed.
      writeFileSync(join(dir, "values.yaml"), JSON.stringify(values));
      valueArgs.push("--values", join(dir, "values.yaml"));
    }
    const out = spawnSync(ensureGoTool("helm"), [...args, ...valueArgs], {
      encoding: "utf8",
      // An empty HOME of its own: no user's repositories, plugins or registry logins.
      env: { PATH: process.env["PATH"] ?? "", HOME: dir, HELM_CACHE_HOME: join(dir, "cache") },
      maxBuffer: 32 * 1024 * 1024,
    });
    return { status: out.status ?? -1, stdout: out.stdout, stderr: out.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function lint(values?: Record<string, unknown>, strict = false): HelmResult {
  return helm(["lint", CHART_DIR, ...(strict ? ["--strict"] : [])], values);
}

/** `helm template` as text; throws with helm's message when it fails. */
export function renderText(options: RenderOptions = {}): string {
  const result = helm(
    [
      "template",
      options.release ?? "gitops-guard",
      CHART_DIR,
      "--namespace",
      options.namespace ?? "gitops-guard-system",
      ...(options.crds === true ? ["--include-crds"] : []),
    ],
    options.values,
  );
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return result.stdout;
}

/** `helm template` as objects, in helm's order. */
export function render(options: RenderOptions = {}): KubeObject[] {
  return parseAllDocuments(renderText(options))
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((obj): obj is KubeObject => obj !== null);
}

export function find(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.find(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  );
  if (found === undefined) throw new Error(`no ${kind} ${name ?? ""} in the rendered chart`);
  return found;
}

export function kinds(objects: readonly KubeObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.name ?? ""}`);
}
