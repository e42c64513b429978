{{- define "sts.name" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}
{{- define "sts.labels" -}}
app: {{ include "sts.name" . }}
version: {{ .Chart.AppVersion | quote }}
{{- end -}}
