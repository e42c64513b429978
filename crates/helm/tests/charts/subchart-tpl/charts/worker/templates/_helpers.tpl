{{- define "worker.env" -}}
{{- range $k, $v := .env }}
- name: {{ $k }}
  value: {{ tpl $v $.ctx | quote }}
{{- end }}
{{- end -}}
