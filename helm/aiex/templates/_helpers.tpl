{{/* Chart name, truncated to the 63 characters a DNS label allows. */}}
{{- define "aiex.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name. Truncated to 45 characters so that the longest derived names
("<fullname>-nodes-headless", and StatefulSet pod names with controller-revision-hash
labels) stay within 63.
*/}}
{{- define "aiex.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 45 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 45 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 45 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "aiex.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels (https://helm.sh/docs/chart_best_practices/labels/). */}}
{{- define "aiex.labels" -}}
helm.sh/chart: {{ include "aiex.chart" . }}
{{ include "aiex.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aiex
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "aiex.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aiex.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Per-component labels: include with (dict "ctx" $ "component" "gateway"). */}}
{{- define "aiex.componentLabels" -}}
{{ include "aiex.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "aiex.componentSelectorLabels" -}}
{{ include "aiex.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Object names. */}}
{{- define "aiex.gateway.fullname" -}}{{ include "aiex.fullname" . }}-gateway{{- end }}
{{- define "aiex.nodes.fullname" -}}{{ include "aiex.fullname" . }}-nodes{{- end }}
{{- define "aiex.nodes.headless" -}}{{ include "aiex.fullname" . }}-nodes-headless{{- end }}
{{- define "aiex.nats.fullname" -}}{{ include "aiex.fullname" . }}-nats{{- end }}
{{- define "aiex.nats.headless" -}}{{ include "aiex.fullname" . }}-nats-headless{{- end }}
{{- define "aiex.config.name" -}}{{ include "aiex.fullname" . }}-config{{- end }}
{{- define "aiex.llmSecret.name" -}}{{ include "aiex.fullname" . }}-llm{{- end }}

{{- define "aiex.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aiex.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "aiex.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Is the in-chart NATS deployed? ("true" or "") */}}
{{- define "aiex.nats.inChart" -}}
{{- if not .Values.nats.external.url }}true{{- end }}
{{- end }}

{{/* The NATS URL the gateway and the nodes use. */}}
{{- define "aiex.nats.url" -}}
{{- if .Values.nats.external.url }}
{{- .Values.nats.external.url }}
{{- else }}
{{- printf "nats://%s.%s.svc.%s:4222" (include "aiex.nats.fullname" .) .Release.Namespace .Values.clusterDomain }}
{{- end }}
{{- end }}

{{/* Copies of each JetStream stream Aiex creates: one per in-chart server (at most 5),
     or nats.external.streamReplicas. */}}
{{- define "aiex.nats.streamReplicas" -}}
{{- if .Values.nats.external.url }}
{{- .Values.nats.external.streamReplicas }}
{{- else }}
{{- min 5 (int .Values.nats.replicas) }}
{{- end }}
{{- end }}

{{/* The gossip seed: every node, by the headless service's DNS name. */}}
{{- define "aiex.seeds" -}}
{{- printf "%s.%s.svc.%s:7946" (include "aiex.nodes.headless" .) .Release.Namespace .Values.clusterDomain }}
{{- end }}

{{/* The chart-created provider Secret is needed when any apiKey is given. */}}
{{- define "aiex.llmSecret.needed" -}}
{{- range $p := list "openai" "anthropic" "gemini" }}
{{- $v := index $.Values.llm.providers $p }}
{{- if and $v.existingSecret $v.apiKey }}
{{- fail (printf "llm.providers.%s: set existingSecret or apiKey, not both" $p) }}
{{- end }}
{{- if $v.apiKey }}true{{- end }}
{{- end }}
{{- end }}

{{/* Env shared by the gateway and the nodes. */}}
{{- define "aiex.commonEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: NATS_URL
  value: {{ include "aiex.nats.url" . | quote }}
- name: AIEX_STREAM_REPLICAS
  value: {{ include "aiex.nats.streamReplicas" . | quote }}
- name: AIEX_CONFIG
  value: /etc/aiex/config.toml
- name: RUST_LOG
  value: {{ .Values.logLevel | quote }}
- name: TMPDIR
  value: /tmp
{{- end }}

{{/* Provider credentials: env from Secrets (existing or chart-created), and OLLAMA_HOST. */}}
{{- define "aiex.llmEnv" -}}
{{- $secret := include "aiex.llmSecret.name" . }}
{{- range $p, $env := dict "openai" "OPENAI_API_KEY" "anthropic" "ANTHROPIC_API_KEY" "gemini" "GEMINI_API_KEY" }}
{{- $v := index $.Values.llm.providers $p }}
{{- if $v.existingSecret }}
- name: {{ $env }}
  valueFrom:
    secretKeyRef:
      name: {{ $v.existingSecret }}
      key: {{ $v.existingSecretKey }}
{{- else if $v.apiKey }}
- name: {{ $env }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ printf "%s-api-key" $p }}
{{- end }}
{{- end }}
{{- with .Values.llm.providers.ollama.url }}
- name: OLLAMA_HOST
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
Pod annotations that roll the pods when their config (or, with "llm" true, the
chart-made provider Secret) changes: include with (dict "ctx" $ "llm" true).
*/}}
{{- define "aiex.podAnnotations" -}}
{{- $ := .ctx -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") $ | sha256sum }}
{{- if and .llm (include "aiex.llmSecret.needed" $) }}
checksum/llm-secret: {{ include (print $.Template.BasePath "/secret.yaml") $ | sha256sum }}
{{- end }}
{{- if $.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ $.Values.metrics.port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- with $.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The health probes on the metrics port. */}}
{{- define "aiex.probes" -}}
startupProbe:
  httpGet:
    path: /health/livez
    port: metrics
  periodSeconds: {{ .Values.probes.startup.periodSeconds }}
  failureThreshold: {{ .Values.probes.startup.failureThreshold }}
  timeoutSeconds: {{ .Values.probes.startup.timeoutSeconds }}
livenessProbe:
  httpGet:
    path: /health/livez
    port: metrics
  periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
  failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
  timeoutSeconds: {{ .Values.probes.liveness.timeoutSeconds }}
readinessProbe:
  httpGet:
    path: /health/readyz
    port: metrics
  periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
  failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
  timeoutSeconds: {{ .Values.probes.readiness.timeoutSeconds }}
{{- end }}
