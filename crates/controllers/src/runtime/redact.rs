//! Removes credentials from text before it reaches a log line, an Event or a condition:
//! URL user-info (`https://user:token@host`) and any secret value the reconciler loaded.

/// Masks the known secret values and URL credentials in messages.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: Vec<String>,
}

/// What a redacted value is replaced with (Flux's mask).
pub const MASK: &str = "*****";

impl Redactor {
    /// A redactor with no known secret values (URL credentials are still masked).
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers a secret value; values shorter than 4 bytes are ignored because masking them
    /// would mangle ordinary words while protecting nothing.
    pub fn add(&mut self, value: &str) {
        let v = value.trim();
        if v.len() >= 4 && !self.secrets.iter().any(|s| s == v) {
            self.secrets.push(v.to_string());
            // Longest first so a value containing another is masked whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
        // Multi-line values (keys, certificates) are also masked line by line, so a partial
        // echo of a PEM block cannot leak either.
        if v.contains('\n') {
            for line in v.lines() {
                let l = line.trim();
                if l.len() >= 16 && !l.starts_with("-----") {
                    self.add(l);
                }
            }
        }
    }

    /// The text with secrets and URL credentials masked.
    pub fn apply(&self, text: &str) -> String {
        let mut out = strip_url_userinfo(text);
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }
}

/// Replaces `scheme://user:pass@host` with `scheme://*****@host` everywhere in `text`.
pub fn strip_url_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // The authority ends at the first '/', whitespace or quote; user-info is what precedes
        // its last '@'.
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        if let Some(at) = authority.rfind('@') {
            out.push_str(MASK);
            out.push_str(&authority[at..]);
        } else {
            out.push_str(authority);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_url_credentials_and_values() {
        let mut r = Redactor::new();
        r.add("s3cr3t-token");
        r.add("ab"); // too short to mask
        let msg = "unable to clone 'https://bob:s3cr3t-token@example.com/repo.git': token s3cr3t-token rejected; ab";
        let got = r.apply(msg);
        assert_eq!(
            got,
            "unable to clone 'https://*****@example.com/repo.git': token ***** rejected; ab"
        );
        assert_eq!(
            strip_url_userinfo("ssh://git@host:22/x and http://h/y"),
            "ssh://*****@host:22/x and http://h/y"
        );
    }

    #[test]
    fn masks_key_lines() {
        let mut r = Redactor::new();
        r.add("-----BEGIN KEY-----\nAAAABBBBCCCCDDDDEEEE\n-----END KEY-----\n");
        assert_eq!(r.apply("bad key AAAABBBBCCCCDDDDEEEE"), "bad key *****");
    }
}
