//! `namespace`: set metadata.namespace on namespaced objects, plus the extra namespace fields
//! (role binding subjects, webhook services, ...).

use serde_json::Value;

use crate::error::Error;
use crate::fieldspec::{self, CreateKind};
use crate::resource::Resource;
use crate::types::FieldSpec;

/// Which role binding subjects get the namespace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SubjectsMode {
    /// Only subjects named `default` (kustomize's default).
    #[default]
    DefaultOnly,
    /// Every ServiceAccount subject.
    AllServiceAccounts,
    /// None.
    None,
}

/// Namespace transformer configuration.
pub struct NamespaceSpec {
    /// The namespace.
    pub namespace: String,
    /// Extra fields.
    pub field_specs: Vec<FieldSpec>,
    /// Only set where empty.
    pub unset_only: bool,
    /// Role binding subject handling.
    pub subjects: SubjectsMode,
}

impl NamespaceSpec {
    fn set(&self, node: &mut Value) -> Result<(), String> {
        if self.unset_only {
            let has = match &*node {
                Value::String(s) => !s.is_empty(),
                Value::Null => false,
                _ => true,
            };
            if has {
                return Ok(());
            }
        }
        *node = Value::String(self.namespace.clone());
        Ok(())
    }

    /// Applies to every resource; ids must stay unique.
    pub fn apply(&self, list: &mut [Resource]) -> Result<(), Error> {
        if self.namespace.is_empty() {
            return Ok(());
        }
        for r in list.iter_mut() {
            if r.obj.as_object().is_none_or(|o| o.is_empty()) {
                continue;
            }
            r.store_previous_id();
            let gvk = r.gvk();
            let api_version = r.api_version().to_string();
            let id = r.cur_id();
            let ctx = |e: String| Error::transform(format!("set namespace on {id}"), e);
            if !gvk.is_cluster_scoped() {
                let fs = FieldSpec {
                    path: "metadata/namespace".into(),
                    create: true,
                    ..Default::default()
                };
                fieldspec::apply(&fs, &mut r.obj, CreateKind::Scalar, &mut |n| self.set(n))
                    .map_err(ctx)?;
            }
            let is_rb = gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding";
            let specs: Vec<&FieldSpec> = self
                .field_specs
                .iter()
                .filter(|f| f.path != "metadata/namespace")
                .filter(|f| api_version == "v1" || f.path != "metadata/name")
                .filter(|f| {
                    !(is_rb
                        && (f.kind == "RoleBinding" || f.kind == "ClusterRoleBinding")
                        && f.path == "subjects/namespace")
                })
                .collect();
            if is_rb {
                self.subjects_hack(&mut r.obj).map_err(ctx)?;
            }
            for fs in specs {
                fieldspec::apply(fs, &mut r.obj, CreateKind::Scalar, &mut |n| self.set(n))
                    .map_err(ctx)?;
            }
        }
        crate::resmap::check_unique(list, "namespace transformation")?;
        Ok(())
    }

    fn subjects_hack(&self, obj: &mut Value) -> Result<(), String> {
        if self.subjects == SubjectsMode::None {
            return Ok(());
        }
        let Some(Value::Array(subjects)) = obj.get_mut("subjects") else {
            return Ok(());
        };
        for s in subjects.iter_mut() {
            let Some(m) = s.as_object_mut() else { continue };
            let hit = match self.subjects {
                SubjectsMode::DefaultOnly => {
                    m.get("name").and_then(Value::as_str) == Some("default")
                }
                SubjectsMode::AllServiceAccounts => {
                    m.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                }
                SubjectsMode::None => false,
            };
            if hit {
                let slot = m.entry("namespace").or_insert(Value::String(String::new()));
                self.set(slot)?;
            }
        }
        Ok(())
    }
}
