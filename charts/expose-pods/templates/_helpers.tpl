{{/*
Names. Resource names are never truncated silently: a pod name is part of the
per-pod Service's selector, so a cut name would select nothing. validateValues
fails instead when the full name is too long.
*/}}
{{- define "expose-pods.name" -}}
{{- default .Chart.Name .Values.nameOverride -}}
{{- end -}}

{{- define "expose-pods.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride -}}
{{- else if contains (include "expose-pods.name" .) .Release.Name -}}
{{- .Release.Name -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "expose-pods.name" .) -}}
{{- end -}}
{{- end -}}

{{- define "expose-pods.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The StatefulSet, its headless Service and its pods share the full name. */}}
{{- define "expose-pods.headlessName" -}}
{{- include "expose-pods.fullname" . -}}
{{- end -}}

{{- define "expose-pods.redisName" -}}
{{- printf "%s-redis" (include "expose-pods.fullname" .) -}}
{{- end -}}

{{- define "expose-pods.redisSecretName" -}}
{{- default (include "expose-pods.redisName" .) .Values.redis.auth.existingSecret -}}
{{- end -}}

{{- define "expose-pods.redisClaimName" -}}
{{- default (printf "%s-data" (include "expose-pods.redisName" .)) .Values.redis.persistence.existingClaim -}}
{{- end -}}

{{/* Number of per-pod Services: expose.count, or room.replicas when it is null. */}}
{{- define "expose-pods.exposeCount" -}}
{{- if kindIs "invalid" .Values.expose.count -}}
{{- .Values.room.replicas | int -}}
{{- else -}}
{{- .Values.expose.count | int -}}
{{- end -}}
{{- end -}}

{{/* nodePort for ordinal .i: from expose.nodePorts, else base + ordinal, else "" (Kubernetes assigns). */}}
{{- define "expose-pods.nodePort" -}}
{{- $v := .root.Values.expose -}}
{{- if $v.nodePorts -}}
{{- index $v.nodePorts .i | int -}}
{{- else if not (kindIs "invalid" $v.nodePortBase) -}}
{{- add ($v.nodePortBase | int) .i -}}
{{- end -}}
{{- end -}}

{{/* Labels: the app.kubernetes.io set. Call with (dict "root" $ "component" "room"). */}}
{{- define "expose-pods.labels" -}}
helm.sh/chart: {{ include "expose-pods.chart" .root }}
{{ include "expose-pods.selectorLabels" . }}
{{- if .root.Chart.AppVersion }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: expose-pods
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "expose-pods.selectorLabels" -}}
app.kubernetes.io/name: {{ include "expose-pods.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Pod-level hardening shared by every pod of the chart. */}}
{{- define "expose-pods.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
fsGroup: {{ .Values.podSecurity.fsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level hardening shared by every container of the chart. */}}
{{- define "expose-pods.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop:
    - ALL
{{- end -}}

{{- define "expose-pods.image" -}}
{{- printf "%s:%s" .repository (toString .tag) -}}
{{- end -}}

{{/* The default image is agnhost; with room.args null it runs serve-hostname, which answers with the pod name. */}}
{{- define "expose-pods.roomArgs" -}}
{{- $r := .Values.room -}}
{{- if not (kindIs "invalid" $r.args) -}}
{{- toYaml $r.args -}}
{{- else if hasSuffix "/agnhost" $r.image.repository -}}
- serve-hostname
- --port={{ $r.containerPort }}
{{- if eq $r.protocol "UDP" }}
- --udp=true
- --http=false
{{- else }}
- --http=true
{{- end }}
{{- end -}}
{{- end -}}

{{/* A probe value: null means the default (tcpSocket for TCP, none for UDP); {} means no probe. */}}
{{- define "expose-pods.roomProbe" -}}
{{- $p := index .root.Values.room .name -}}
{{- if kindIs "invalid" $p -}}
{{- /* Readiness only: a connection to the room's port says "send players here". A liveness check
on the same port would kill a busy room instead of taking it out of rotation, and a process that
dies is restarted without one; set room.livenessProbe to what your server can answer when alive. */ -}}
{{- if and (eq .root.Values.room.protocol "TCP") (eq .name "readinessProbe") -}}
tcpSocket:
  port: room
periodSeconds: 5
failureThreshold: 3
{{- end -}}
{{- else if $p -}}
{{- toYaml $p -}}
{{- end -}}
{{- end -}}

{{/* Every cross-field rule; all problems are collected into one message ("" when the values are fine). */}}
{{- define "expose-pods.validateValues" -}}
{{- $errs := list -}}
{{- $v := .Values -}}
{{- $full := include "expose-pods.fullname" . -}}
{{- $count := include "expose-pods.exposeCount" . | int -}}
{{- if gt (len $full) 52 -}}
{{- $errs = append $errs (printf "the resource name %q is %d characters; StatefulSet names longer than 52 break the pod's controller-revision-hash label. Shorten the release name or set fullnameOverride." $full (len $full)) -}}
{{- end -}}
{{- /* The same check, whatever its timing: what the probe runs, without when and how often. */ -}}
{{- $live := pick ($v.room.livenessProbe | default dict) "exec" "httpGet" "tcpSocket" "grpc" -}}
{{- $ready := pick (include "expose-pods.roomProbe" (dict "root" . "name" "readinessProbe") | fromYaml | default dict) "exec" "httpGet" "tcpSocket" "grpc" -}}
{{- if and $live (eq (toYaml $live) (toYaml $ready)) -}}
{{- $errs = append $errs "room.livenessProbe is the same check as the readiness probe: a busy room would be killed instead of taken out of rotation. Give liveness a check of its own (a health endpoint), or leave it null" -}}
{{- end -}}
{{- if $v.expose.nodePorts -}}
{{- if lt (len $v.expose.nodePorts) $count -}}
{{- $errs = append $errs (printf "expose.nodePorts lists %d ports but %d per-pod Services are rendered (expose.count, or room.replicas). List one port per Service, or use expose.nodePortBase." (len $v.expose.nodePorts) $count) -}}
{{- end -}}
{{- $seen := dict -}}
{{- range $p := $v.expose.nodePorts -}}
{{- if hasKey $seen (toString $p) -}}
{{- $errs = append $errs (printf "expose.nodePorts: %v is listed twice. Every per-pod Service needs its own nodePort, even with room.onePerNode=true; for one shared port, use expose.type=LoadBalancer (each Service gets its own IP and needs no distinct ports)." $p) -}}
{{- end -}}
{{- $_ := set $seen (toString $p) true -}}
{{- if or (lt ($p | int) 30000) (gt ($p | int) 32767) -}}
{{- $errs = append $errs (printf "expose.nodePorts: %v is outside the default NodePort range 30000-32767. Pick ports inside it." $p) -}}
{{- end -}}
{{- end -}}
{{- else if not (kindIs "invalid" $v.expose.nodePortBase) -}}
{{- $base := $v.expose.nodePortBase | int -}}
{{- if lt $base 30000 -}}
{{- $errs = append $errs (printf "expose.nodePortBase=%d is below the default NodePort range 30000-32767. Set it to 30000 or more, or to null to let Kubernetes assign ports." $base) -}}
{{- else if and (gt $count 0) (gt (add $base $count -1) 32767) -}}
{{- $errs = append $errs (printf "expose.nodePortBase=%d with %d per-pod Services needs ports up to %d, beyond the NodePort range end 32767. Lower expose.nodePortBase to at most %d, or set it to null to let Kubernetes assign ports." $base $count (add $base $count -1) (sub 32768 $count)) -}}
{{- end -}}
{{- end -}}
{{- if eq $v.room.protocol "UDP" -}}
{{- range $probe := list "readinessProbe" "livenessProbe" -}}
{{- $p := index $v.room $probe -}}
{{- if and (kindIs "map" $p) (hasKey $p "tcpSocket") -}}
{{- $errs = append $errs (printf "room.%s uses tcpSocket but room.protocol is UDP: a TCP probe cannot check a UDP port. Use an exec probe, or set room.%s to {} for none." $probe $probe) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $v.redis.enabled $v.redis.auth.password $v.redis.auth.existingSecret -}}
{{- $errs = append $errs "redis.auth.password and redis.auth.existingSecret are both set. Set only one: the password, or the name of a Secret that holds it." -}}
{{- end -}}
{{- /* redis.conf keywords are case-insensitive: REQUIREPASS works as well as requirepass. */ -}}
{{- if $v.redis.enabled -}}
{{- $extra := $v.redis.config.extra -}}
{{- if regexMatch "(?im)^\\s*(requirepass|masterauth)\\b" $extra -}}
{{- $errs = append $errs (printf "redis.config.extra sets %s, which would put a password in a ConfigMap. Set redis.auth.password or redis.auth.existingSecret instead." (lower (regexFind "(?im)^\\s*(requirepass|masterauth)\\b" $extra | trim))) -}}
{{- else if regexMatch "(?im)^\\s*user\\s+default\\b" $extra -}}
{{- $errs = append $errs "redis.config.extra has an ACL line for the default user, which would replace the password the chart gives it from the Secret (and may put one in a ConfigMap). Set redis.auth.password or redis.auth.existingSecret, and add other users only." -}}
{{- else if regexMatch "(?im)^\\s*user\\s+\\S+.*\\s[>#]" $extra -}}
{{- $errs = append $errs "redis.config.extra has an ACL user with a password (>password or #hash), which would put it in a ConfigMap. Give that user its password at run time (ACL SETUSER), or from a file in a Secret (aclfile)." -}}
{{- end -}}
{{- end -}}
{{- if $errs -}}
{{- printf "\n\nVALUES VALIDATION:\n  - %s\n" (join "\n  - " $errs) -}}
{{- end -}}
{{- end -}}
