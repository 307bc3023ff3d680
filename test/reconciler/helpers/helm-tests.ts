// What the Helm tests share: a one-ConfigMap chart template that says its version, the source
// folder of such a chart, and a reader of a ConfigMap's data as the API server has it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

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

export { configMapData } from "./harness.js";

/** The source folder of a chart <name> <version> with one template, under dir; its path. */
export function writeChartSource(
  dir: string,
  chart: { readonly name: string; readonly version: string },
  template: string,
): string {
  const src = join(dir, "src", `${chart.name}-${chart.version}`);
  mkdirSync(join(src, "templates"), { recursive: true });
  writeFileSync(
    join(src, "Chart.yaml"),
    `apiVersion: v2\nname: ${chart.name}\nversion: ${chart.version}\n`,
  );
  writeFileSync(join(src, "values.yaml"), "greeting: hello\n");
  writeFileSync(join(src, "templates", "cm.yaml"), template);
  return src;
}
