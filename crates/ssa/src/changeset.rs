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
