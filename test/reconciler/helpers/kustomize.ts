// The real kustomize (sigs.k8s.io/kustomize/kustomize/v5, pinned in test/tools/kustomize),
// built from the Go module proxy once and cached, like every test tool.
import { ensureGoTool } from "../../tools/go-tools.js";

export function ensureKustomize(): string {
  return ensureGoTool("kustomize");
}
