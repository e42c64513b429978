//! API-level tests: render limits, missingkey options, host objects, function registry.

use gotemplate::{Error, Limits, MissingKey, RenderContext, TemplateSet, Value};

fn set_with(text: &str) -> TemplateSet {
    let mut set = TemplateSet::named("gotpl");
    set.add_functions(gotemplate::helm_functions());
    set.parse("t", text).expect("parse");
    set
}

#[test]
fn recursion_depth_is_limited() {
    let set = set_with(r#"{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}"#);
    let err = set
        .execute("t", &Value::Nil, &RenderContext::new())
        .unwrap_err();
    assert!(matches!(err, Error::Limit(_)), "got {err:?}");
    assert!(
        err.message().contains("exceeded maximum template depth"),
        "{err}"
    );
}

#[test]
fn output_size_is_limited() {
    let set = set_with(r#"{{ range until 100000 }}{{ repeat 100 "x" }}{{ end }}"#);
    let ctx = RenderContext {
        limits: Limits {
            max_output: 1 << 20,
            ..Limits::default()
        },
        ..RenderContext::default()
    };
    let err = set.execute("t", &Value::Nil, &ctx).unwrap_err();
    assert!(matches!(err, Error::Limit(_)), "got {err:?}");
}

#[test]
fn deadline_is_enforced() {
    let set = set_with(r#"{{ range until 1000000 }}{{ range until 10 }}{{ end }}{{ end }}"#);
    let ctx = RenderContext {
        limits: Limits {
            deadline: Some(std::time::Instant::now()),
            ..Limits::default()
        },
        ..RenderContext::default()
    };
    let err = set.execute("t", &Value::Nil, &ctx).unwrap_err();
    assert!(err.message().contains("deadline"), "{err}");
}

#[test]
fn deep_parens_are_rejected_not_overflowing() {
    let text = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
    let mut set = TemplateSet::new();
    let err = set.parse("t", &text).unwrap_err();
    assert!(err.message().contains("nesting"), "{err}");
}

#[test]
fn missingkey_options() {
    let data = Value::from_json(&serde_json::json!({"a": {}}));
    let mut set = TemplateSet::new();
    set.parse("t", "{{ .a.b }}|{{ .x }}").unwrap();
    assert_eq!(
        set.execute("t", &data, &RenderContext::new()).unwrap(),
        "<no value>|<no value>"
    );
    set.set_missing_key(MissingKey::Error);
    let err = set.execute("t", &data, &RenderContext::new()).unwrap_err();
    assert_eq!(
        err.message(),
        r#"template: t:1:5: executing "t" at <.a.b>: map has no entry for key "b""#
    );
}

struct Caps;

impl gotemplate::Object for Caps {
    fn type_name(&self) -> String {
        "chartutil.Capabilities".into()
    }
    fn field(&self, name: &str) -> Option<Value> {
        (name == "KubeVersion").then(|| Value::str("v1.35.0"))
    }
    fn has_method(&self, name: &str) -> bool {
        name == "Has"
    }
    fn call_method(
        &self,
        name: &str,
        args: &[Value],
    ) -> Option<Result<Value, gotemplate::FuncError>> {
        (name == "Has").then(|| {
            Ok(Value::Bool(
                args.first().and_then(Value::as_str) == Some("v1"),
            ))
        })
    }
}

#[test]
fn host_objects_fields_and_methods() {
    let mut m = gotemplate::Map::new();
    m.insert("Caps".into(), Value::Object(std::sync::Arc::new(Caps)));
    let data = Value::map(m);
    let set = set_with(r#"{{ .Caps.KubeVersion }} {{ .Caps.Has "v1" }} {{ .Caps.Has "v2" }}"#);
    assert_eq!(
        set.execute("t", &data, &RenderContext::new()).unwrap(),
        "v1.35.0 true false"
    );
    let set = set_with("{{ .Caps.Nope }}");
    let err = set.execute("t", &data, &RenderContext::new()).unwrap_err();
    assert!(
        err.message()
            .ends_with("can't evaluate field Nope in type interface {}"),
        "{err}"
    );
}

#[test]
fn custom_function_reaches_template_set() {
    let mut set = TemplateSet::named("gotpl");
    set.add_functions(gotemplate::helm_functions());
    let mut f = gotemplate::Functions::new();
    f.add("names", &[], |cc, _| {
        Ok(Value::string_list(cc.template_set().template_names()))
    });
    set.add_functions(f);
    set.parse("a", r#"{{ define "x" }}{{ end }}{{ names }}"#)
        .unwrap();
    assert_eq!(
        set.execute("a", &Value::Nil, &RenderContext::new())
            .unwrap(),
        "[a x]"
    );
}

#[test]
fn self_referencing_maps_do_not_crash() {
    let set = set_with(
        r#"{{ $d := dict "k" 1 }}{{ $_ := set $d "self" $d }}{{ $e := deepCopy $d }}{{ len (toYaml $d) | gt 0 }} {{ len (printf "%v" $d) | lt 1000 }} {{ deepEqual $d $e }} {{ toJson $d | len }}"#,
    );
    let out = set
        .execute("t", &Value::Nil, &RenderContext::new())
        .unwrap();
    assert_eq!(out, "false true false 0");
}

#[test]
fn deeply_nested_documents_are_rejected() {
    let set = set_with(
        r#"{{ (fromJson .j).Error }}|{{ (fromToml .t).Error }}|{{ len (fromYaml .y).Error | lt 0 }}"#,
    );
    let mut m = gotemplate::Map::new();
    m.insert(
        "j".into(),
        Value::str(format!(
            "{{\"a\":{}1{}}}",
            "[".repeat(5000),
            "]".repeat(5000)
        )),
    );
    m.insert(
        "t".into(),
        Value::str(format!("a = {}1{}", "[".repeat(5000), "]".repeat(5000))),
    );
    m.insert(
        "y".into(),
        Value::str(format!("a: {}1{}", "[".repeat(5000), "]".repeat(5000))),
    );
    let out = set
        .execute("t", &Value::map(m), &RenderContext::new())
        .unwrap();
    assert!(out.starts_with("exceeded max depth|"), "{out}");
    assert!(out.contains("nesting too deep"), "{out}");
    assert!(out.ends_with("|true"), "{out}");
}

#[test]
fn huge_ranges_are_refused() {
    let set = set_with(r#"{{ len (until 100000000) }}"#);
    let err = set
        .execute("t", &Value::Nil, &RenderContext::new())
        .unwrap_err();
    assert!(
        err.message()
            .ends_with("error calling until: untilStep: too many elements"),
        "{err}"
    );
}

#[test]
fn nested_empty_tpl_executes_the_fresh_tree() {
    // Helm's promtail chart: `tpl ""` inside a tpl must render "", not the outer text again.
    let set = set_with(r#"{{ tpl "a{{ tpl \"\" . }}b" . }}"#);
    assert_eq!(
        set.execute("t", &Value::Nil, &RenderContext::new())
            .unwrap(),
        "ab"
    );
}

/// A Go named slice type (like Helm's `chartutil.VersionSet`).
struct Versions(Vec<&'static str>);

impl gotemplate::Object for Versions {
    fn type_name(&self) -> String {
        "common.VersionSet".into()
    }
    fn field(&self, _: &str) -> Option<Value> {
        None
    }
    fn collection(&self) -> Option<Value> {
        Some(Value::string_list(
            self.0.iter().map(|s| s.to_string()).collect(),
        ))
    }
}

#[test]
fn named_collection_objects_behave_like_their_collection() {
    let mut m = gotemplate::Map::new();
    m.insert(
        "V".into(),
        Value::Object(std::sync::Arc::new(Versions(vec!["v1", "apps/v1"]))),
    );
    m.insert(
        "E".into(),
        Value::Object(std::sync::Arc::new(Versions(vec![]))),
    );
    let set = set_with(
        r#"{{ len .V }} {{ index .V 1 }} {{ range .V }}[{{ . }}]{{ end }} {{ .V }} {{ has "v1" .V }} {{ join "," .V }} {{ kindOf .V }} {{ if .E }}x{{ else }}empty{{ end }} {{ empty .E }}"#,
    );
    assert_eq!(
        set.execute("t", &Value::map(m), &RenderContext::new())
            .unwrap(),
        "2 apps/v1 [v1][apps/v1] [v1 apps/v1] true v1,apps/v1 slice empty true"
    );
}

#[test]
fn growing_intermediate_values_hit_the_limit() {
    let set = set_with(
        r#"{{ $s := "x" }}{{ range until 64 }}{{ $s = print $s $s }}{{ end }}{{ len $s }}"#,
    );
    let ctx = RenderContext {
        limits: Limits {
            max_output: 1 << 20,
            ..Limits::default()
        },
        ..RenderContext::default()
    };
    let err = set.execute("t", &Value::Nil, &ctx).unwrap_err();
    assert!(matches!(err, Error::Limit(_)), "got {err:?}");
    let set = set_with(
        r#"{{ $l := list 1 }}{{ range until 64 }}{{ $l = concat $l $l }}{{ end }}{{ len $l }}"#,
    );
    let err = set
        .execute("t", &Value::Nil, &RenderContext::new())
        .unwrap_err();
    assert!(
        err.message().contains("exceeds the render size limit"),
        "{err}"
    );
}

/// Go's own builtins (no sprig override of `slice`) and the byte view of the output.
#[test]
fn go_builtins_and_output_work_on_bytes() {
    let mut set = TemplateSet::new();
    set.parse(
        "t",
        r#"{{ len . }} {{ index . 1 }} {{ slice . 1 3 | printf "%q" }} {{ slice . 1 2 | printf "%q %x" (slice . 0 1) }}|{{ slice . 0 2 }}"#,
    )
    .expect("parse");
    let out = set
        .execute("t", &Value::str("héllo"), &RenderContext::new())
        .expect("execute");
    let bytes = gotemplate::gostr::to_output_bytes(out);
    let mut want = r#"6 195 "é" "h" c3|h"#.as_bytes().to_vec();
    // `slice . 0 2` is "h" plus the first byte of "é": Go writes that byte as is.
    want.push(0xC3);
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(&want)
    );
    assert_eq!(bytes, want);
}

/// Values built from bytes (`from_go_bytes`) keep every byte through sprig and back out.
#[test]
fn raw_bytes_survive_a_render() {
    let raw = vec![b'a', 0xFF, 0xFE, b'z'];
    let set = set_with(r#"{{ . | len }} {{ . | b64enc }} {{ . | quote }} {{ . | upper }}|{{ . }}"#);
    let data = Value::str(gotemplate::gostr::from_go_bytes(raw.clone()));
    let out = set
        .execute("t", &data, &RenderContext::new())
        .expect("execute");
    let bytes = gotemplate::gostr::to_output_bytes(out);
    let mut want = "4 Yf/+eg== \"a\\xff\\xfez\" A\u{FFFD}\u{FFFD}Z|"
        .as_bytes()
        .to_vec();
    want.extend_from_slice(&raw);
    assert_eq!(bytes, want);
}

/// A `[]byte` (Helm's `.Files.GetBytes`) yields Go `uint8` elements through `range`, `index`
/// and sprig's list functions. Expected text is what Helm v4.1.4 printed for the same
/// template over a file holding `a\xc3b`.
#[test]
fn bytes_yield_uint8_elements() {
    let set = set_with(concat!(
        r#"r: {{ range $i, $c := . }}{{ $i }}={{ $c }}:{{ printf "%T" $c }},{{ end }}"#,
        "\n",
        r#"i: {{ index . 1 | typeOf }} {{ index . 1 }} {{ slice . 1 2 | typeOf }}"#,
        "\n",
        r#"s: {{ first . | typeOf }} {{ last . }} {{ rest . | typeOf }} {{ has (index . 0) . }} {{ reverse . | printf "%v %T" }} {{ . | toStrings }}"#,
        "\n",
        r#"p: {{ printf "%v|%d|%o|%#v|%T" . . . . . }}"#,
        "\n",
        r#"e: {{ eq (index . 0) 97 }} {{ lt (index . 1) 200 }} {{ len . }}"#,
        "\n",
        r#"j: {{ toJson . }} {{ list (index . 0) | toJson }}"#,
        "\n",
        r#"u: {{ uniq . | printf "%v %T" }} {{ without . (index . 0) | printf "%v %T" }} {{ append . 1 | printf "%v %T" }} {{ initial . | typeOf }} {{ concat . (list 1) | printf "%v %T" }}"#,
    ));
    let data = Value::Bytes(std::sync::Arc::from(&b"a\xc3b"[..]));
    let out = set
        .execute("t", &data, &RenderContext::new())
        .expect("execute");
    let want = "r: 0=97:uint8,1=195:uint8,2=98:uint8,
i: uint8 195 []uint8
s: uint8 98 []interface {} true [98 195 97] %!T(MISSING) [97 195 98]
p: [97 195 98]|[97 195 98]|[141 303 142]|[]byte{0x61, 0xc3, 0x62}|[]uint8
e: true true 3
j: \"YcNi\" [97]
u: [97 195 98] %!T(MISSING) [195 98] %!T(MISSING) [97 195 98 1] %!T(MISSING) []interface {} [97 195 98 1] %!T(MISSING)";
    assert_eq!(out, want);
}
