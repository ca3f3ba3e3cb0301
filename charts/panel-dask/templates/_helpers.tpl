{{/*
Names, labels, images and security contexts shared by every template.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "panel-dask.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name prefix of every resource. 53 characters at most: the DaskCluster
carries this name and dask-kubernetes names its Service `<name>-scheduler`,
which must fit the 63-character DNS label limit.
*/}}
{{- define "panel-dask.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 53 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 53 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 53 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "panel-dask.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every resource; components add app.kubernetes.io/component. */}}
{{- define "panel-dask.labels" -}}
helm.sh/chart: {{ include "panel-dask.chart" . }}
{{ include "panel-dask.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: panel-dask
{{- end }}

{{/* Labels that identify the release's pods; stable across upgrades. */}}
{{- define "panel-dask.selectorLabels" -}}
app.kubernetes.io/name: {{ include "panel-dask.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one component. Call with (dict "ctx" $ "component" "panel").
*/}}
{{- define "panel-dask.componentLabels" -}}
{{ include "panel-dask.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Selector labels of one component. Call with (dict "ctx" $ "component" "panel"). */}}
{{- define "panel-dask.componentSelectorLabels" -}}
{{ include "panel-dask.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Resource names of the components. */}}
{{- define "panel-dask.panel.fullname" -}}
{{- printf "%s-panel" (include "panel-dask.fullname" .) }}
{{- end }}

{{- define "panel-dask.operator.fullname" -}}
{{- printf "%s-operator" (include "panel-dask.fullname" .) }}
{{- end }}

{{/* The DaskCluster's name; dask-kubernetes derives the others from it. */}}
{{- define "panel-dask.cluster.name" -}}
{{- include "panel-dask.fullname" . }}
{{- end }}

{{/* The scheduler Service dask-kubernetes creates for the DaskCluster. */}}
{{- define "panel-dask.scheduler.serviceName" -}}
{{- printf "%s-scheduler" (include "panel-dask.cluster.name" .) }}
{{- end }}

{{/*
The ports and the path prefix the components agree on. Their Python owners are
panel_dask_app.ports (scheduler, dashboard, prefix; Panel's default port, which
is also `panel.port`) and panel_dask_operator.__main__ (the operator's health
port); tests/chart/test_chart_contract.py fails when the rendered chart differs.
*/}}
{{- define "panel-dask.schedulerPort" -}}8786{{- end }}
{{- define "panel-dask.dashboardPort" -}}8787{{- end }}
{{- define "panel-dask.dashboardPrefix" -}}/dask{{- end }}
{{- define "panel-dask.operatorHealthPort" -}}8080{{- end }}
{{- /* Panel's and the operator's Prometheus port (panel_dask_app.ports, panel_dask_operator.telemetry). */}}
{{- define "panel-dask.metricsPort" -}}8000{{- end }}
{{- /* Where a Dask worker serves its dashboard and /metrics. */}}
{{- define "panel-dask.workerDashboardPort" -}}8788{{- end }}

{{/* In-cluster address Panel's Dask client connects to. */}}
{{- define "panel-dask.scheduler.address" -}}
{{- printf "tcp://%s.%s.svc.%s:%s" (include "panel-dask.scheduler.serviceName" .) .Release.Namespace .Values.clusterDomain (include "panel-dask.schedulerPort" .) }}
{{- end }}

{{- define "panel-dask.cookieSecret.name" -}}
{{- default (printf "%s-cookie-secret" (include "panel-dask.fullname" .)) .Values.panel.cookieSecret.existingSecret }}
{{- end }}

{{- define "panel-dask.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "panel-dask.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
"true" when the uninstall hook renders: only a DaskCluster with `idleTimeout`
carries a kopf finalizer (dask-kubernetes' autoshutdown timer), so only then
can its deletion outlive the operator. Also gates the hook's RBAC rule.
*/}}
{{- define "panel-dask.operator.uninstallCleanup" -}}
{{- if and .Values.operator.enabled .Values.operator.uninstallCleanup.enabled (gt (int .Values.dask.scheduler.idleTimeoutSeconds) 0) }}true{{- end }}
{{- end }}

{{/*
The app image (Panel, scheduler, workers, helm test). A numeric tag
(`--set image.tag=1`, or `tag: 1` in a values file, which YAML makes a float)
is written as that integer.
*/}}
{{- define "panel-dask.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if kindIs "float64" $tag }}{{ $tag = int64 $tag }}{{ end }}
{{- printf "%s:%v" .Values.image.repository $tag }}
{{- end }}

{{- define "panel-dask.operator.image" -}}
{{- printf "%s:%s" .Values.operator.image.repository (default .Chart.AppVersion .Values.operator.image.tag) }}
{{- end }}

{{- define "panel-dask.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Pod-level security context meeting the `restricted` Pod Security Standard.
The dask-kubernetes controller copies the DaskCluster's pod templates verbatim,
so the scheduler and worker pods get it too.
*/}}
{{- define "panel-dask.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container-level security context meeting the `restricted` Pod Security Standard. */}}
{{- define "panel-dask.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Where the basic-auth Secret is mounted in the Panel container.
*/}}
{{- define "panel-dask.panel.basicAuthDir" -}}
/etc/panel-dask/basic-auth
{{- end }}

{{/*
Panel's own auth settings as environment variables: values name the provider
and Secrets, and every secret value comes from a secretKeyRef or a mounted
Secret, so none is ever in the values, the manifest or the process list.
*/}}
{{- define "panel-dask.panel.authEnv" -}}
{{- $auth := .Values.panel.auth }}
{{- if eq $auth.type "basic" }}
- name: PANEL_BASIC_AUTH
  value: {{ printf "%s/credentials.json" (include "panel-dask.panel.basicAuthDir" .) | quote }}
{{- else if eq $auth.type "oauth" }}
- name: PANEL_OAUTH_PROVIDER
  value: {{ $auth.oauth.provider | quote }}
- name: PANEL_OAUTH_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $auth.oauth.existingSecret | quote }}
      key: {{ $auth.oauth.clientIdKey | quote }}
- name: PANEL_OAUTH_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $auth.oauth.existingSecret | quote }}
      key: {{ $auth.oauth.clientSecretKey | quote }}
- name: PANEL_OAUTH_ENCRYPTION
  valueFrom:
    secretKeyRef:
      name: {{ $auth.oauth.existingSecret | quote }}
      key: {{ $auth.oauth.encryptionKeyKey | quote }}
{{- with $auth.oauth.redirectUri }}
- name: PANEL_OAUTH_REDIRECT_URI
  value: {{ . | quote }}
{{- end }}
{{- with $auth.oauth.extraParams }}
- name: PANEL_OAUTH_EXTRA_PARAMS
  value: {{ toJson . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Cross-field checks JSON Schema cannot express; `fail` names the fields so a bad
`--set` is easy to find. Included by every rendered component.
*/}}
{{- define "panel-dask.validate" -}}
{{- if gt (int .Values.autoscaler.minimum) (int .Values.autoscaler.maximum) }}
{{- fail (printf "autoscaler.minimum (%v) must be less than or equal to autoscaler.maximum (%v)" .Values.autoscaler.minimum .Values.autoscaler.maximum) }}
{{- end }}
{{- if gt (int .Values.panel.autoscaling.minReplicas) (int .Values.panel.autoscaling.maxReplicas) }}
{{- fail (printf "panel.autoscaling.minReplicas (%v) must be less than or equal to panel.autoscaling.maxReplicas (%v)" .Values.panel.autoscaling.minReplicas .Values.panel.autoscaling.maxReplicas) }}
{{- end }}
{{- if and .Values.ingress.enabled .Values.ingress.tls.enabled (not .Values.ingress.host) }}
{{- fail "ingress.host must be set when ingress.tls.enabled is true (the certificate is for one host)" }}
{{- end }}
{{- if and .Values.ingress.enabled .Values.ingress.tls.enabled (not .Values.ingress.tls.secretName) }}
{{- fail "ingress.tls.secretName must name the kubernetes.io/tls Secret when ingress.tls.enabled is true" }}
{{- end }}
{{- if and (eq .Values.panel.auth.type "basic") (not .Values.panel.auth.basic.existingSecret) }}
{{- fail "panel.auth.basic.existingSecret must name the Secret with the users and passwords when panel.auth.type is basic (the chart takes no passwords as values)" }}
{{- end }}
{{- if and (eq .Values.panel.auth.type "oauth") (not .Values.panel.auth.oauth.provider) }}
{{- fail "panel.auth.oauth.provider must be set when panel.auth.type is oauth (e.g. github, google, azure, okta, generic)" }}
{{- end }}
{{- if and (eq .Values.panel.auth.type "oauth") (not .Values.panel.auth.oauth.existingSecret) }}
{{- fail "panel.auth.oauth.existingSecret must name the Secret with the OAuth client id, client secret and encryption key when panel.auth.type is oauth" }}
{{- end }}
{{- if and .Values.ingress.enabled .Values.ingress.dashboard.enabled .Values.ingress.dashboard.basicAuthSecret (ne .Values.ingress.controller "nginx") }}
{{- fail (printf "ingress.dashboard.basicAuthSecret turns on ingress-nginx basic auth, which ingress.controller=%s ignores, leaving /dask open; protect /dask through ingress.dashboard.annotations instead (for Traefik: a basicAuth Middleware named in traefik.ingress.kubernetes.io/router.middlewares)" .Values.ingress.controller) }}
{{- end }}
{{- if and (not .Values.operator.serviceAccount.create) (not .Values.operator.serviceAccount.name) .Values.operator.enabled }}
{{- fail "operator.serviceAccount.name must name an existing ServiceAccount when operator.serviceAccount.create is false" }}
{{- end }}
{{- end }}

{{/*
A NetworkPolicy `from` entry for the Prometheus that scrapes the release, or
nothing when networkPolicy.metricsScraperNamespace is empty.
*/}}
{{- define "panel-dask.metricsScraperPeer" -}}
{{- with .Values.networkPolicy.metricsScraperNamespace }}
- namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
What Prometheus scrapes, one entry per component: its pods' labels, the port
name and the path. The ServiceMonitors (components with a Service) and the
PodMonitors (all four) both range over it.
*/}}
{{- define "panel-dask.metricsTargets" -}}
{{- $cluster := include "panel-dask.cluster.name" . -}}
- component: panel
  port: metrics
  path: /metrics
  selector: {{ include "panel-dask.componentSelectorLabels" (dict "ctx" . "component" "panel") | fromYaml | toJson }}
{{- if .Values.operator.enabled }}
- component: operator
  port: metrics
  path: /metrics
  selector: {{ include "panel-dask.componentSelectorLabels" (dict "ctx" . "component" "operator") | fromYaml | toJson }}
{{- end }}
- component: scheduler
  port: http-dashboard
  path: {{ include "panel-dask.dashboardPrefix" . }}/metrics
  selector: {"dask.org/cluster-name": {{ $cluster | quote }}, "dask.org/component": "scheduler"}
- component: worker
  port: http-dashboard
  path: /metrics
  selector: {"dask.org/cluster-name": {{ $cluster | quote }}, "dask.org/component": "worker"}
{{- end }}
