//! Reading YAML manifests: files, directories of them, and the Kubernetes objects of a text
//! of many documents. Shared by the ConfigGroup (objects to apply) and CRD packages (CRDs to
//! type).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A file itself, or the YAML files of a directory in name order.
pub fn yaml_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| format!("cannot read the directory {}: {e}", path.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

/// The non-empty documents of a YAML text; the items of a `kind: List` each count as one.
pub fn documents(text: &str) -> Result<Vec<serde_json::Value>, String> {
    let mut found = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value =
            serde_json::Value::deserialize(document).map_err(|e| format!("not YAML: {e}"))?;
        match value {
            serde_json::Value::Null => {}
            list if list["kind"] == "List" && list["items"].is_array() => {
                found.extend(list["items"].as_array().into_iter().flatten().cloned());
            }
            object => found.push(object),
        }
    }
    Ok(found)
}
