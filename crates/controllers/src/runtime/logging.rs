//! Logs in Flux's shape: one JSON object per line with `level`, `ts`, `msg`, `error`, and the
//! reconcile span's `controller`, `controllerGroup`, `controllerKind`, `name`, `namespace`,
//! `reconcileID`, `revision` flattened in; or human-readable console lines.

use std::io::Write;
use std::str::FromStr;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Output format of the logs (`--log-encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogEncoding {
    /// One JSON object per line (Flux's default).
    #[default]
    Json,
    /// Human-readable lines.
    Console,
}

impl FromStr for LogEncoding {
    type Err = LogError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Self::Json),
            "console" => Ok(Self::Console),
            other => Err(LogError::Encoding(other.to_string())),
        }
    }
}

/// Errors configuring logging.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Unknown `--log-level`.
    #[error("parsing log level '{0}': must be one of trace, debug, info, error")]
    Level(String),
    /// Unknown `--log-encoding`.
    #[error("parsing log encoding '{0}': must be one of json, console")]
    Encoding(String),
}

/// The span every reconcile runs in: Flux's log keys for the object (`controller`,
/// `controllerGroup`, `controllerKind`, `name`, `namespace`, a fresh `reconcileID`) and an empty
/// `revision` the reconciler records once it knows it.
pub fn reconcile_span(
    controller: &'static str,
    group: &'static str,
    kind: &'static str,
    name: &str,
    namespace: &str,
) -> tracing::Span {
    tracing::info_span!(
        "reconcile",
        controller = controller,
        controllerGroup = group,
        controllerKind = kind,
        name = %name,
        namespace = %namespace,
        reconcileID = %uuid::Uuid::new_v4(),
        revision = tracing::field::Empty,
    )
}

/// Parses `--log-level` (Flux accepts trace, debug, info, error).
pub fn parse_level(s: &str) -> Result<LevelFilter, LogError> {
    match s {
        "trace" => Ok(LevelFilter::TRACE),
        "debug" => Ok(LevelFilter::DEBUG),
        "info" => Ok(LevelFilter::INFO),
        "warn" => Ok(LevelFilter::WARN),
        "error" => Ok(LevelFilter::ERROR),
        other => Err(LogError::Level(other.to_string())),
    }
}

/// The filter: the chosen level for our crates, at most `warn` for the HTTP/client stack,
/// whose info-level chatter is not part of Flux's log vocabulary.
pub fn filter(level: LevelFilter) -> Targets {
    let quiet = level.min(LevelFilter::WARN);
    Targets::new()
        .with_default(level)
        .with_target("kube", quiet)
        .with_target("kube_runtime", quiet)
        .with_target("kube_client", quiet)
        .with_target("hyper", quiet)
        .with_target("hyper_util", quiet)
        .with_target("tower", quiet)
        .with_target("rustls", quiet)
        .with_target("h2", quiet)
}

/// Installs the global subscriber. A second call (tests, embedded use) is a no-op.
pub fn init(level: &str, encoding: LogEncoding) -> Result<(), LogError> {
    let level = parse_level(level)?;
    let result = match encoding {
        LogEncoding::Json => tracing_subscriber::registry()
            .with(JsonLayer::new(std::io::stderr).with_filter(filter(level)))
            .try_init(),
        LogEncoding::Console => tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_filter(filter(level)),
            )
            .try_init(),
    };
    // Already initialised by the embedding program: keep its subscriber.
    let _ = result;
    Ok(())
}

/// A `tracing` layer writing Flux-shaped JSON lines to `W`.
pub struct JsonLayer<W> {
    make_writer: W,
}

impl<W> JsonLayer<W> {
    /// A layer writing to `make_writer`.
    pub fn new(make_writer: W) -> Self {
        Self { make_writer }
    }
}

/// Fields recorded on a span, kept in its extensions.
struct SpanFields(Map<String, Value>);

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl JsonVisitor<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        let key = match field.name() {
            "message" => "msg",
            other => other,
        };
        // Flux logs the change set (`output`) as a JSON object, not as a string holding JSON;
        // callers pass it serialized because tracing fields are scalars.
        let value = match value {
            Value::String(text) if key == "output" && text.starts_with('{') => {
                match serde_json::from_str::<Value>(&text) {
                    Ok(object @ Value::Object(_)) => object,
                    _ => Value::String(text),
                }
            }
            other => other,
        };
        self.0.insert(key.to_string(), value);
    }
}

impl Visit for JsonVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The whole cause chain, as Go's wrapped errors print.
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(s) = source {
            let s_text = s.to_string();
            if !text.contains(&s_text) {
                text.push_str(": ");
                text.push_str(&s_text);
            }
            source = s.source();
        }
        self.put(field, Value::String(text));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

impl<S, W> Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let Some(span) = ctx.span(id) else { return };
        let mut map = Map::new();
        attrs.record(&mut JsonVisitor(&mut map));
        span.extensions_mut().insert(SpanFields(map));
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(fields) = ext.get_mut::<SpanFields>() {
            values.record(&mut JsonVisitor(&mut fields.0));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        line.insert(
            "level".into(),
            Value::String(level_name(event.metadata().level()).into()),
        );
        line.insert(
            "ts".into(),
            Value::String(
                k8s_openapi::jiff::Timestamp::now()
                    .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
                    .to_string(),
            ),
        );
        // `msg` right after `ts`, as zap prints it; filled in from the event below.
        line.insert("msg".into(), Value::String(String::new()));
        // Span fields, outermost first, so inner spans override outer ones.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    for (k, v) in &fields.0 {
                        line.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        let mut fields = Map::new();
        event.record(&mut JsonVisitor(&mut fields));
        for (k, v) in fields {
            line.insert(k, v);
        }
        let mut text = Value::Object(line).to_string();
        text.push('\n');
        let mut w = self.make_writer.make_writer();
        let _ = w.write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }

    #[test]
    fn json_lines_have_flux_keys() {
        let buf = Buf::default();
        let sub = tracing_subscriber::registry()
            .with(JsonLayer::new(buf.clone()).with_filter(filter(LevelFilter::INFO)));
        tracing::subscriber::with_default(sub, || {
            let span = tracing::info_span!(
                "reconcile",
                controllerGroup = "source.toolkit.fluxcd.io",
                controllerKind = "GitRepository",
                name = "podinfo",
                namespace = "default",
                reconcileID = "abc",
                revision = tracing::field::Empty
            );
            let _g = span.enter();
            span.record("revision", "main@sha1:0123");
            let err = std::io::Error::other("boom");
            tracing::error!(error = &err as &dyn std::error::Error, "Reconciler error");
            tracing::debug!("hidden");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        let l = &lines[0];
        assert_eq!(l["level"], "error");
        assert_eq!(l["msg"], "Reconciler error");
        assert_eq!(l["error"], "boom");
        assert_eq!(l["controllerKind"], "GitRepository");
        assert_eq!(l["controllerGroup"], "source.toolkit.fluxcd.io");
        assert_eq!(l["name"], "podinfo");
        assert_eq!(l["namespace"], "default");
        assert_eq!(l["reconcileID"], "abc");
        assert_eq!(l["revision"], "main@sha1:0123");
        assert!(l["ts"].as_str().unwrap().ends_with('Z'));
        let keys: Vec<&String> = l.as_object().unwrap().keys().collect();
        assert_eq!(keys[..3], ["level", "ts", "msg"]);
    }

    #[test]
    fn parses_flags() {
        assert!(parse_level("verbose").is_err());
        assert_eq!(parse_level("debug").unwrap(), LevelFilter::DEBUG);
        assert_eq!(
            "console".parse::<LogEncoding>().unwrap(),
            LogEncoding::Console
        );
        assert!("xml".parse::<LogEncoding>().is_err());
    }

    #[test]
    fn change_set_output_is_a_json_object() {
        let buf = Buf::default();
        let sub = tracing_subscriber::registry()
            .with(JsonLayer::new(buf.clone()).with_filter(filter(LevelFilter::INFO)));
        tracing::subscriber::with_default(sub, || {
            let output = r#"{"ConfigMap/default/a":"created"}"#;
            tracing::info!(output = %output, "server-side apply completed");
            tracing::info!(output = "{not json", "kept as text");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0]["output"]["ConfigMap/default/a"], "created",
            "{text}"
        );
        assert_eq!(lines[1]["output"], "{not json");
    }
}
