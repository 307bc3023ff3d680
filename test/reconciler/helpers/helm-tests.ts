// What the Helm tests share: a one-ConfigMap chart template that says its version, and a reader
// of a ConfigMap's data as the API server has it.
import type { KubeObject } from "../../../src/kube/objects.js";
import { clientAs } from "../../envtest/context.js";

/** A ConfigMap <release>-info naming the chart's version and the greeting value. */
export const INFO_TEMPLATE = [
  "apiVersion: v1",
  "kind: ConfigMap",
  "metadata: { name: {{ .Release.Name }}-info }",
  "data:",
  "  chart: {{ .Chart.Version | quote }}",
  "  greeting: {{ .Values.greeting | quote }}",
  "",
].join("\n");

/** The data of ConfigMap namespace/name, or undefined when it does not exist. */
export async function configMapData(
  namespace: string,
  name: string,
): Promise<Record<string, string> | undefined> {
  const cm = await clientAs("admin").get<KubeObject & { data?: Record<string, string> }>({
    apiVersion: "v1",
    kind: "ConfigMap",
    namespace,
    name,
  });
  return cm?.data;
}
