// The real kustomize (sigs.k8s.io/kustomize/kustomize/v5, pinned in test/tools/kustomize) and helm,
// built from the Go module proxy once and cached, like every test tool.
import { ensureGoTool } from "../../tools/go-tools.js";

export function ensureKustomize(): string {
  return ensureGoTool("kustomize");
}

/** The real helm (helm.sh/helm/v4 v4.3.2, pinned in test/tools/go-tools.ts), built once. */
export function ensureHelm(): string {
  return ensureGoTool("helm");
}
