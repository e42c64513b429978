{{- define "common.labels" -}}
app.kubernetes.io/name: {{ .Values.name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "common.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-{{ .Values.name }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  ports:
  {{- range $name, $port := .Values.ports }}
  - name: {{ $name }}
    port: {{ $port }}
  {{- end }}
{{- end -}}
