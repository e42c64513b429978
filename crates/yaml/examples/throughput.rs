//! Measures read and write throughput on a generated multi-document stream:
//! `cargo run --release -p yaml --example throughput [DOCS] [OUTPUT_FILE]` (the output file gets
//! the written text, to compare with `kubectl kustomize` on the same stream).

use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3000);
    let template = include_str!("../tests/golden/deployment.in.yaml");
    let mut text = String::new();
    for i in 0..n {
        text.push_str("---\n");
        text.push_str(&template.replace("name: podinfo", &format!("name: podinfo-{i}")));
    }
    let t = Instant::now();
    let events = saphyr_parser::Parser::new_from_str(&text).count();
    let scan = t.elapsed();
    let t = Instant::now();
    let docs = yaml::parse_documents(&text).expect("generated text parses");
    let read = t.elapsed();
    let t = Instant::now();
    let out = yaml::to_multi_doc_string(&docs);
    let write = t.elapsed();
    if let Some(path) = std::env::args().nth(2) {
        std::fs::write(&path, &out).expect("writing output file");
    }
    let mb = |b: usize| b as f64 / 1e6;
    println!(
        "events only (saphyr-parser, {events} events): {:>8.1} ms",
        scan.as_secs_f64() * 1e3
    );
    println!(
        "documents: {}, input {:.1} MB, output {:.1} MB",
        docs.len(),
        mb(text.len()),
        mb(out.len())
    );
    println!(
        "read:  {:>8.1} ms  {:>6.1} MB/s",
        read.as_secs_f64() * 1e3,
        mb(text.len()) / read.as_secs_f64()
    );
    println!(
        "write: {:>8.1} ms  {:>6.1} MB/s",
        write.as_secs_f64() * 1e3,
        mb(out.len()) / write.as_secs_f64()
    );
}
