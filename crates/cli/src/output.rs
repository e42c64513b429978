//! What the everyday commands print: upstream's stderr progress lines (`► ✔ ◎ ✗ ✚`), its
//! tab-padded tables, revision shortening and `---`-separated YAML exports.

use serde_json::Value;

/// `► message` on stderr (an action starts).
pub fn action(msg: impl AsRef<str>) {
    eprintln!("► {}", msg.as_ref());
}

/// `✔ message` on stderr.
pub fn success(msg: impl AsRef<str>) {
    eprintln!("✔ {}", msg.as_ref());
}

/// `◎ message` on stderr (waiting).
pub fn waiting(msg: impl AsRef<str>) {
    eprintln!("◎ {}", msg.as_ref());
}

/// `✗ message` on stderr (a non-fatal failure, e.g. nothing found).
pub fn failure(msg: impl AsRef<str>) {
    eprintln!("✗ {}", msg.as_ref());
}

/// `✚ message` on stderr (something generated).
pub fn generate(msg: impl AsRef<str>) {
    eprintln!("✚ {}", msg.as_ref());
}

/// `⚠️ message` on stderr.
pub fn warning(msg: impl AsRef<str>) {
    eprintln!("⚠️ {}", msg.as_ref());
}

/// Renders a table the way upstream's printer (tablewriter without borders, no white space,
/// `\t` padding) does: every cell left-aligned, padded to its column's width and followed by a
/// tab; headers upper-cased. Multi-line cells spread over several lines.
pub fn table(header: Option<&[&str]>, rows: &[Vec<String>]) -> String {
    let header: Option<Vec<String>> = header.map(|h| h.iter().map(|s| s.to_uppercase()).collect());
    let ncols = header
        .as_ref()
        .map(|h| h.len())
        .unwrap_or(0)
        .max(rows.iter().map(|r| r.len()).max().unwrap_or(0));
    let mut widths = vec![0usize; ncols];
    let width = |s: &str| s.chars().count();
    if let Some(h) = &header {
        for (i, c) in h.iter().enumerate() {
            widths[i] = widths[i].max(width(c));
        }
    }
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            for line in c.split('\n') {
                widths[i] = widths[i].max(width(line));
            }
        }
    }
    let mut out = String::new();
    let mut emit = |cells: &[String]| {
        let lines: Vec<Vec<&str>> = (0..ncols)
            .map(|i| {
                cells
                    .get(i)
                    .map(|c| c.split('\n').collect())
                    .unwrap_or_else(|| vec![""])
            })
            .collect();
        let height = lines.iter().map(|l| l.len()).max().unwrap_or(1);
        for y in 0..height {
            for (i, col) in lines.iter().enumerate() {
                let cell = col.get(y).copied().unwrap_or("");
                out.push_str(cell);
                out.extend(std::iter::repeat_n(' ', widths[i] - width(cell)));
                out.push('\t');
            }
            out.push('\n');
        }
    };
    if let Some(h) = &header {
        emit(h);
    }
    for r in rows {
        emit(r);
    }
    out
}

/// Shortens every hexadecimal run of 40–128 characters (SHA-1 … SHA-512) that stands as a word
/// to its first 8 characters, as upstream does for revisions and messages in tables.
pub fn truncate_hex(s: &str) -> String {
    let b = s.as_bytes();
    let is_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if is_hex(b[i]) && (i == 0 || !is_word(b[i - 1])) {
            let mut j = i;
            while j < b.len() && is_hex(b[j]) {
                j += 1;
            }
            let len = j - i;
            if (40..=128).contains(&len) && (j == b.len() || !is_word(b[j])) {
                out.push_str(&s[copied..i + 8]);
                copied = j;
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out.push_str(&s[copied..]);
    out
}

/// `True`/`False` as upstream titles a Go bool.
pub fn title_bool(b: bool) -> String {
    if b { "True" } else { "False" }.to_string()
}

/// One exported document: `---`, the YAML (keys in go-yaml order), and the blank line upstream's
/// `fmt.Println` of newline-terminated YAML leaves.
pub fn export_doc(value: &Value) -> String {
    let mut v = value.clone();
    yaml::sort_keys(&mut v);
    format!("---\n{}\n", yaml::to_string(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_pad_every_cell_and_end_cells_with_a_tab() {
        let rows = vec![vec!["podinfo".to_string(), "True".into()]];
        assert_eq!(
            table(Some(&["Name", "Ready"]), &rows),
            "NAME   \tREADY\t\npodinfo\tTrue \t\n"
        );
        assert_eq!(table(None, &rows), "podinfo\tTrue\t\n");
        assert_eq!(table(None, &[]), "");
    }

    #[test]
    fn hex_runs_are_shortened_only_when_long_enough() {
        let sha1 = "2a3f1c0e5b6d7a8f9e0d1c2b3a4f5e6d7c8b9a0f";
        assert_eq!(
            truncate_hex(&format!("main@sha1:{sha1}")),
            "main@sha1:2a3f1c0e"
        );
        assert_eq!(
            truncate_hex(&format!("stored artifact for revision 'main@sha1:{sha1}'")),
            "stored artifact for revision 'main@sha1:2a3f1c0e'"
        );
        assert_eq!(truncate_hex("v1.0.0@sha256:abc"), "v1.0.0@sha256:abc");
        assert_eq!(truncate_hex(""), "");
        // Part of a longer word: left alone.
        assert_eq!(truncate_hex(&format!("x{sha1}")), format!("x{sha1}"));
    }
}
