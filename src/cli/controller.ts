/**
 * The controller's HTTP endpoints (/v1/cert.pem, /v1/verify, /v1/rotate, as Bitnami's
 * controller serves them) reached the way kubeseal reaches them: through the API server's
 * service proxy, with the kubeconfig's credentials. Only online paths import this module, and
 * it loads the Kubernetes client only when called, so offline sealing never pays for it.
 */
import { ErrorCodes, GuardError, errorMessage, isGuardError } from "../errors.js";

export const DEFAULT_CONTROLLER_NAME = "gitops-guard";
export const DEFAULT_CONTROLLER_NAMESPACE = "gitops-guard-system";

export interface ControllerRef {
  readonly name: string;
  readonly namespace: string;
  /** The kubeconfig files (merged as kubectl does); undefined: the pod's service account. */
  readonly kubeconfig: readonly string[] | undefined;
}

export interface ControllerClient {
  fetchCert(): Promise<string>;
  /** True when the controller can open the SealedSecret (409 means it cannot). */
  verify(sealedSecret: unknown): Promise<boolean>;
  /** The SealedSecret re-encrypted with the controller's newest key. */
  rotate(sealedSecret: unknown): Promise<unknown>;
}

function hint(ref: ControllerRef): string {
  return (
    `the controller's Service ${ref.namespace}/${ref.name} cannot be reached: give ` +
    "--controller-name and --controller-namespace, or work offline with --cert / --private-key"
  );
}

function failed(ref: ControllerRef, what: string, err: unknown): GuardError {
  return new GuardError(ErrorCodes.SEAL_CONTROLLER_FAILED, `${what}: ${errorMessage(err)}`, {
    cause: err,
    details: { controller: `${ref.namespace}/${ref.name}` },
  });
}

export async function connectController(ref: ControllerRef): Promise<ControllerClient> {
  const { createKubeClient } = await import("../kube/client.js");
  const { rest } = createKubeClient(
    ref.kubeconfig === undefined ? {} : { kubeconfig: ref.kubeconfig },
  );
  const servicePath = `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/services`;
  let portName: string;
  try {
    const service = await rest.json<{ spec?: { ports?: { name?: string; port?: number }[] } }>({
      method: "GET",
      path: `${servicePath}/${encodeURIComponent(ref.name)}`,
    });
    const port = service.spec?.ports?.[0];
    portName = port?.name !== undefined && port.name !== "" ? port.name : String(port?.port ?? "");
  } catch (err: unknown) {
    throw failed(ref, hint(ref), err);
  }
  const proxy = `${servicePath}/http:${encodeURIComponent(ref.name)}:${encodeURIComponent(portName)}/proxy`;
  return {
    async fetchCert() {
      try {
        return await rest.text({ method: "GET", path: `${proxy}/v1/cert.pem` });
      } catch (err: unknown) {
        throw failed(ref, "cannot fetch the certificate", err);
      }
    },
    async verify(sealedSecret) {
      try {
        await rest.text({ method: "POST", path: `${proxy}/v1/verify`, body: sealedSecret });
        return true;
      } catch (err: unknown) {
        if (isGuardError(err, ErrorCodes.KUBE_CONFLICT)) return false;
        throw failed(ref, "cannot validate", err);
      }
    },
    async rotate(sealedSecret) {
      try {
        return await rest.json<unknown>({
          method: "POST",
          path: `${proxy}/v1/rotate`,
          body: sealedSecret,
        });
      } catch (err: unknown) {
        throw failed(ref, "cannot re-encrypt", err);
      }
    },
  };
}
