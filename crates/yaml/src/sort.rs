//! Map key order of go-yaml's encoder, which `kubectl kustomize` output follows.
//!
//! go-yaml (the v2 emitter `sigs.k8s.io/yaml` uses) sorts map keys "naturally": runs of digits
//! compare by numeric value, and at the first difference a letter sorts after a non-letter.

use serde_json::Value;
use std::cmp::Ordering;

/// Compares two map keys the way go-yaml orders them when encoding a map.
pub fn key_cmp(a: &str, b: &str) -> Ordering {
    if key_less(a, b) {
        Ordering::Less
    } else if key_less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

fn key_less(a: &str, b: &str) -> bool {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let (an, ai) = digit_run(&ar, i);
        let (bn, bi) = digit_run(&br, i);
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

/// The value of the decimal digit run starting at `i` and the index just past it.
fn digit_run(s: &[char], i: usize) -> (i64, usize) {
    let mut n: i64 = 0;
    let mut j = i;
    while j < s.len() && s[j].is_ascii_digit() {
        n = n
            .wrapping_mul(10)
            .wrapping_add(i64::from(s[j] as u8 - b'0'));
        j += 1;
    }
    (n, j)
}

/// Sorts `items` by go-yaml's key order. The order is not a total order for some odd keys, so
/// this never relies on one: small slices use insertion sort exactly as Go's `sort.Sort` does,
/// larger ones a merge sort (the same result whenever the order is consistent).
pub(crate) fn sort_by_key<T>(items: &mut Vec<T>, key: impl Fn(&T) -> &str) {
    sort_dyn(items, &key);
}

fn sort_dyn<T>(items: &mut Vec<T>, key: &dyn Fn(&T) -> &str) {
    if items.len() <= 12 {
        for i in 1..items.len() {
            let mut j = i;
            while j > 0 && key_less(key(&items[j]), key(&items[j - 1])) {
                items.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    let right = items.split_off(items.len() / 2);
    let mut left = std::mem::take(items);
    let mut right = right;
    sort_dyn(&mut left, key);
    sort_dyn(&mut right, key);
    let mut r = right.into_iter().peekable();
    for l in left {
        while let Some(x) = r.next_if(|x| key_less(key(x), key(&l))) {
            items.push(x);
        }
        items.push(l);
    }
    items.extend(r);
}

/// Reorders every map in `value` (recursively) into go-yaml's key order.
pub fn sort_keys(value: &mut Value) {
    match value {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
            sort_by_key(&mut entries, |e| e.0.as_str());
            for (_, v) in &mut entries {
                sort_keys(v);
            }
            *m = entries.into_iter().collect();
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::key_cmp;
    use std::cmp::Ordering::*;

    #[test]
    fn natural_order() {
        let cases = [
            ("i9", "i10", Less),
            ("s2", "s10", Less),
            ("a", "b", Less),
            ("apiVersion", "kind", Less),
            ("n4", "nested", Less),
            ("a", "a1", Less),
            ("a-b", "ab", Less),
            ("abc123def", "abc12def", Less),
            ("x1", "x01", Less),
            ("_under", "1", Less),
            ("_x", "Zx", Less),
            ("abc", "abc", Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(key_cmp(a, b), want, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn inconsistent_order_does_not_panic_and_matches_go_insertion_sort() {
        // "1" < "01" < "0a" < "1": go-yaml's order has cycles.
        let mut keys = vec!["0a", "01", "1"];
        super::sort_by_key(&mut keys, |k| k);
        assert_eq!(keys, ["01", "0a", "1"]);
        let mut many: Vec<String> = (0..200)
            .map(|i| format!("{}{}", ["0a", "01", "1", "a"][i % 4], i % 7))
            .collect();
        super::sort_by_key(&mut many, |k| k.as_str());
        assert_eq!(many.len(), 200);
    }
}
