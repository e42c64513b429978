//! Fuzzes parse + execute with tight limits: hostile templates must end with an error,
//! not a panic, a hang or unbounded memory.
#![no_main]

use gotemplate::{Limits, Map, RenderContext, TemplateSet, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut set = TemplateSet::named("gotpl");
    set.add_functions(gotemplate::helm_functions());
    // Key generation and password hashing are slow by design; keep the fuzzer fast.
    for f in ["genPrivateKey", "genCA", "genSelfSignedCert", "genSignedCert", "derivePassword", "bcrypt", "htpasswd"] {
        set.functions_mut().remove(f);
    }
    if set.parse("fuzz", text).is_err() {
        return;
    }
    let ctx = RenderContext {
        limits: Limits {
            max_depth: 50,
            max_output: 1 << 20,
            deadline: Some(std::time::Instant::now() + std::time::Duration::from_millis(200)),
            ..Limits::default()
        },
        ..Default::default()
    };
    let mut m = Map::new();
    m.insert("s".into(), Value::str("text"));
    m.insert("n".into(), Value::Float(3.0));
    m.insert("l".into(), Value::list(vec![Value::Int(1), Value::str("a")]));
    let _ = set.execute("fuzz", &Value::map(m), &ctx);
});
