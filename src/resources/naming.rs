//! Names Kubernetes accepts, and Pulumi-style auto-names.

use std::hash::{DefaultHasher, Hash, Hasher};

/// `<logical name>-<8 hex chars>`: the suffix comes from the engine's random seed, which is
/// the same in preview and update, so both plan the same name.
pub fn auto_name(logical_name: &str, random_seed: &[u8]) -> String {
    let suffix: String = if random_seed.len() >= 4 {
        random_seed[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    } else {
        let mut hasher = DefaultHasher::new();
        logical_name.hash(&mut hasher);
        format!("{:08x}", hasher.finish() as u32)
    };
    let base: String = logical_name
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let base = base.trim_matches(|c| c == '-' || c == '.');
    let base = &base[..base.len().min(253 - 9)];
    format!("{base}-{suffix}")
}

/// Why `name` is not a DNS-1123 subdomain (object names), if it is not one.
pub fn subdomain_problem(name: &str) -> Option<String> {
    let valid = !name.is_empty() && name.len() <= 253 && name.split('.').all(label_is_valid);
    (!valid).then(|| {
        format!("{name:?} is not a valid name: lower case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters")
    })
}

/// Why `name` is not a DNS-1123 label (namespaces), if it is not one.
pub fn label_problem(name: &str) -> Option<String> {
    (!label_is_valid(name)).then(|| {
        format!("{name:?} is not a valid namespace name: lower case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters")
    })
}

fn label_is_valid(label: &str) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_names_are_stable_and_valid() {
        let seed = [0xab, 0xcd, 0x01, 0x02, 0xff];
        assert_eq!(auto_name("Model_Serving", &seed), "model-serving-abcd0102");
        assert_eq!(auto_name("x", &seed), auto_name("x", &seed));
        assert!(subdomain_problem(&auto_name("Model_Serving", &seed)).is_none());
    }

    #[test]
    fn bad_names_are_explained() {
        assert!(subdomain_problem("modelservings.ai.example.com").is_none());
        assert!(
            subdomain_problem("Bad_Name")
                .unwrap()
                .contains("\"Bad_Name\" is not a valid name")
        );
        assert!(label_problem("a.b").is_some());
    }
}
