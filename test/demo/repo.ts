// The example Git repository the demo syncs: created with the git CLI in a temp folder.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MANIFESTS: Record<string, string> = {
  "shop/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
  "shop/settings.yaml": [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    "  name: settings",
    "  namespace: shop",
    "data:",
    "  currency: EUR",
    "  checkout: enabled",
    "",
  ].join("\n"),
  "shop/web.yaml": [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: web",
    "  namespace: shop",
    "spec:",
    "  replicas: 0",
    "  selector: {matchLabels: {app: web}}",
    "  template:",
    "    metadata: {labels: {app: web}}",
    "    spec:",
    "      containers: [{name: web, image: nginx:1.27}]",
    "",
  ].join("\n"),
};

const GIT_ENV = {
  GIT_AUTHOR_NAME: "demo",
  GIT_AUTHOR_EMAIL: "demo@example.invalid",
  GIT_COMMITTER_NAME: "demo",
  GIT_COMMITTER_EMAIL: "demo@example.invalid",
  PATH: "/usr/local/bin:/usr/bin:/bin",
  HOME: tmpdir(),
};

/** A repository with one commit holding the shop's manifests; returns its folder. */
export function exampleRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), "gg-demo-repo-"));
  const git = (...args: string[]): string =>
    execFileSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8" });
  git("init", "-q", "-b", "main");
  mkdirSync(join(dir, "shop"));
  for (const [path, text] of Object.entries(MANIFESTS)) writeFileSync(join(dir, path), text);
  git("add", ".");
  git("commit", "-q", "-m", "shop: settings and web");
  return dir;
}
