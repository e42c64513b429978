{{- define "shared.greeting" -}}parent says hi{{- end -}}
