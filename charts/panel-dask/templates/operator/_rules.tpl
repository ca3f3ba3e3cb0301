{{/*
The operator's RBAC rules, shared by the namespaced Role (default) and the
ClusterRole (operator.rbac.clusterWide). Least privilege: only what kopf and
the two controllers (dask-kubernetes' and the queue autoscaler) call.
*/}}
{{- define "panel-dask.operator.rules" -}}
# Framework: kopf posts events about handler progress and failures.
- apiGroups: [""]
  resources: [events]
  verbs: [create]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create]

# Application: the Dask resources dask-kubernetes' controller handles; kopf
# patches them for its finalizers and progress annotations.
- apiGroups: [kubernetes.dask.org]
  resources: [daskclusters, daskworkergroups, daskjobs, daskautoscalers]
  verbs: [get, list, watch, patch, create, delete]
{{- if include "panel-dask.operator.uninstallCleanup" . }}
# The uninstall hook (same ServiceAccount) deletes the release's clusters.
- apiGroups: [kubernetes.dask.org]
  resources: [daskclusters]
  verbs: [deletecollection]
{{- end }}
- apiGroups: [kubernetes.dask.org]
  resources: [daskclusters/status, daskworkergroups/status, daskjobs/status, daskautoscalers/status]
  verbs: [get, patch]
- apiGroups: [kubernetes.dask.org]
  resources: [daskclusters/scale, daskworkergroups/scale]
  verbs: [get, patch, update]

# Application: the queue autoscaler's own resource and its status.
- apiGroups: [panel-dask.io]
  resources: [daskqueueautoscalers]
  verbs: [get, list, watch, patch]
- apiGroups: [panel-dask.io]
  resources: [daskqueueautoscalers/status]
  verbs: [get, patch]

# Application: what the Dask cluster is made of (scheduler and worker
# Deployments, the scheduler Service, job runner pods).
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, delete, patch]
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, create, delete, patch]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, delete, patch]
{{- end }}
