//! Renders a Deployment-like template (helpers, include, toYaml, nindent, range) many times
//! and prints the time per render: `cargo run --release -p gotemplate --example render_bench`.

use gotemplate::{MissingKey, RenderContext, TemplateSet, Value};

const HELPERS: &str = r#"
{{- define "app.name" -}}{{ default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "app.fullname" -}}{{ printf "%s-%s" .Release.Name (include "app.name" .) | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "app.labels" -}}
app.kubernetes.io/name: {{ include "app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}
"#;

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  template:
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          ports:
          {{- range .Values.ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
          {{- end }}
          env:
          {{- range $k, $v := .Values.env }}
            - name: {{ $k | upper }}
              value: {{ $v | quote }}
          {{- end }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
"#;

fn main() {
    let mut set = TemplateSet::named("gotpl");
    set.set_missing_key(MissingKey::Zero);
    set.add_functions(gotemplate::helm_functions());
    set.parse("app/templates/_helpers.tpl", HELPERS).unwrap();
    set.parse("app/templates/deployment.yaml", DEPLOYMENT)
        .unwrap();
    let data = Value::from_json(&serde_json::json!({
        "Chart": {"Name": "app", "Version": "1.2.3", "AppVersion": "4.5.6"},
        "Release": {"Name": "rel", "Namespace": "default"},
        "Values": {
            "replicaCount": 3,
            "image": {"repository": "nginx", "tag": ""},
            "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}],
            "env": {"a": "1", "b": "two", "c": "three", "d": "4"},
            "resources": {"limits": {"cpu": "100m", "memory": "128Mi"}, "requests": {"cpu": "50m", "memory": "64Mi"}},
        }
    }));
    let ctx = RenderContext::new();
    let n = 20_000;
    let start = std::time::Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        bytes += set
            .execute("app/templates/deployment.yaml", &data, &ctx)
            .unwrap()
            .len();
    }
    let el = start.elapsed();
    println!(
        "{n} renders, {bytes} bytes, {:.1} µs/render, {:.1} MB/s",
        el.as_secs_f64() * 1e6 / n as f64,
        bytes as f64 / el.as_secs_f64() / 1e6
    );
}
