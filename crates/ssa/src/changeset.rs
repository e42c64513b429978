//! Change sets: what an apply or delete did to each object, rendered like Flux's.

use std::collections::BTreeMap;
use std::fmt;

use crate::object::ObjMetadata;

/// What happened (or would happen) to one object.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Action {
    /// The object did not exist and was created.
    Created,
    /// The object existed and differed; it was updated.
    Configured,
    /// The object existed and matched; nothing was sent.
    Unchanged,
    /// The object was deleted.
    Deleted,
    /// The object was left alone (annotation, exclusion).
    Skipped,
}

impl Action {
    /// Flux's lowercase word for the action.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Configured => "configured",
            Action::Unchanged => "unchanged",
            Action::Deleted => "deleted",
            Action::Skipped => "skipped",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One object of a change set.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ChangeSetEntry {
    /// The object.
    pub object: ObjMetadata,
    /// `Kind/namespace/name` (or `Kind/name`), see [`ObjMetadata::subject`].
    pub subject: String,
    /// What happened.
    pub action: Action,
}

impl ChangeSetEntry {
    /// An entry for `object` with its subject filled in.
    pub fn new(object: ObjMetadata, action: Action) -> Self {
        let subject = object.subject();
        Self {
            object,
            subject,
            action,
        }
    }
}

impl fmt::Display for ChangeSetEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.subject, self.action)
    }
}

/// The result of applying or deleting a set of objects, in order.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ChangeSet {
    /// One entry per object.
    pub entries: Vec<ChangeSetEntry>,
}

impl ChangeSet {
    /// Subject → action, the `output` of Flux's logs and events.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.entries
            .iter()
            .map(|e| (e.subject.clone(), e.action.to_string()))
            .collect()
    }

    /// Subject → action of the entries that changed something (not `unchanged`/`skipped`).
    pub fn to_changes_map(&self) -> BTreeMap<String, String> {
        self.entries
            .iter()
            .filter(|e| !matches!(e.action, Action::Unchanged | Action::Skipped))
            .map(|e| (e.subject.clone(), e.action.to_string()))
            .collect()
    }

    /// True when no entry created, configured or deleted anything.
    pub fn is_empty_of_changes(&self) -> bool {
        self.entries
            .iter()
            .all(|e| matches!(e.action, Action::Unchanged | Action::Skipped))
    }

    /// The objects of every entry, in order (e.g. the new inventory).
    pub fn objects(&self) -> Vec<ObjMetadata> {
        self.entries.iter().map(|e| e.object.clone()).collect()
    }

    /// Appends the entries of `other`.
    pub fn append(&mut self, other: ChangeSet) {
        self.entries.extend(other.entries);
    }

    /// Adds one entry.
    pub fn add(&mut self, entry: ChangeSetEntry) {
        self.entries.push(entry);
    }
}

impl fmt::Display for ChangeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering() {
        let m = |kind: &str, ns: &str, name: &str| ObjMetadata {
            group: String::new(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
        };
        let mut cs = ChangeSet::default();
        cs.add(ChangeSetEntry::new(
            m("Namespace", "", "apps"),
            Action::Unchanged,
        ));
        cs.add(ChangeSetEntry::new(
            m("ConfigMap", "apps", "c"),
            Action::Configured,
        ));
        assert_eq!(
            cs.to_string(),
            "Namespace/apps unchanged\nConfigMap/apps/c configured"
        );
        assert_eq!(
            cs.to_map(),
            BTreeMap::from([
                ("ConfigMap/apps/c".to_string(), "configured".to_string()),
                ("Namespace/apps".to_string(), "unchanged".to_string())
            ])
        );
        assert_eq!(cs.to_changes_map().len(), 1);
        assert!(!cs.is_empty_of_changes());
        assert_eq!(cs.objects()[1].name, "c");
        let mut quiet = ChangeSet::default();
        quiet.add(ChangeSetEntry::new(m("Secret", "a", "s"), Action::Skipped));
        assert!(quiet.is_empty_of_changes());
        assert_eq!(Action::Deleted.to_string(), "deleted");
        assert_eq!(Action::Created.as_str(), "created");
    }
}
