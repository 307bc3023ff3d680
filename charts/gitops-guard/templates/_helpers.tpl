{{/*
Names. With the release name "gitops-guard" every name is DESIGN.md's fixed one
(gitops-guard-webhook, gitops-guard-secrets, gitops-guard-reconciler); another release name
prefixes them, so a second release (or a test) never collides on cluster-scoped names.
*/}}
{{- define "gitops-guard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gitops-guard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "gitops-guard.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "gitops-guard.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* The webhook's service account; the webhook's Service has the same name (serving cert SANs). */}}
{{- define "gitops-guard.webhookName" -}}
{{- printf "%s-webhook" (include "gitops-guard.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The identity the controller pod runs as: it only holds the Lease and impersonates. */}}
{{- define "gitops-guard.controllerName" -}}
{{- printf "%s-controller" (include "gitops-guard.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gitops-guard.secretsName" -}}
{{- printf "%s-secrets" (include "gitops-guard.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gitops-guard.reconcilerName" -}}
{{- printf "%s-reconciler" (include "gitops-guard.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The ValidatingWebhookConfiguration's name is fixed: the admission component patches the caBundle
of the object called "gitops-guard" (src/admission/webhook-config.ts), whatever the release.
*/}}
{{- define "gitops-guard.webhookConfigurationName" -}}
gitops-guard
{{- end }}

{{- define "gitops-guard.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "gitops-guard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "gitops-guard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gitops-guard
{{- end }}

{{/* Selector labels of one Deployment; call with (dict "root" $ "component" "webhook"). */}}
{{- define "gitops-guard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gitops-guard.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "gitops-guard.componentLabels" -}}
{{ include "gitops-guard.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The settings both Deployments share, as GITOPS_GUARD_* variables (src/config.ts). */}}
{{- define "gitops-guard.commonEnv" -}}
- name: POD_NAME
  valueFrom: { fieldRef: { fieldPath: metadata.name } }
- name: POD_NAMESPACE
  valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
- name: GITOPS_GUARD_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: GITOPS_GUARD_KUBE_HTTP2
  value: {{ .Values.kubeHttp2 | quote }}
- name: GITOPS_GUARD_OPS_LISTEN
  value: {{ printf "0.0.0.0:%d" (int .Values.opsPort) | quote }}
- name: GITOPS_GUARD_SERVICE_ACCOUNTS_WEBHOOK
  value: {{ include "gitops-guard.webhookName" . | quote }}
- name: GITOPS_GUARD_SERVICE_ACCOUNTS_SECRETS
  value: {{ include "gitops-guard.secretsName" . | quote }}
- name: GITOPS_GUARD_SERVICE_ACCOUNTS_RECONCILER
  value: {{ include "gitops-guard.reconcilerName" . | quote }}
{{- with .Values.reconciler.defaultServiceAccount }}
# The reconciler acts as it and the webhook trusts it (for what its GitSync owns) alike.
- name: GITOPS_GUARD_DEFAULT_SERVICE_ACCOUNT
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{/* Non-root, read-only root, no capabilities, RuntimeDefault seccomp (restricted PSS). */}}
{{- define "gitops-guard.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "gitops-guard.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "gitops-guard.probes" -}}
livenessProbe:
  httpGet: { path: /healthz, port: ops }
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /readyz, port: ops }
  periodSeconds: 5
  failureThreshold: 3
{{- end }}
