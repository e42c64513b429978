{{- define "shared.greeting" -}}base says hi{{- end -}}
{{- define "base.only" -}}only in base{{- end -}}
