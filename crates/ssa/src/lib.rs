//! Client-side resource manager like Flux's `fluxcd/pkg/ssa`: staged server-side apply, dry-run
//! diff, inventory ids, prune, and kstatus health assessment with waiting.

mod changeset;
mod error;
pub mod health;
mod ignore;
pub mod kstatus;
mod manager;
mod object;

pub use changeset::{Action, ChangeSet, ChangeSetEntry};
pub use error::SsaError;
pub use ignore::{IgnoreRule, IgnoreSelector};
pub use manager::{
    ApplyCleanupOptions, ApplyOptions, DeleteOptions, DiffEntry, DiscoveryCache, FieldManager,
    HealthCheckExpr, ManagedFieldsOperation, PropagationPolicy, ResourceManager, WaitOptions,
};
pub use object::{ObjMetadata, Owner, set_owner_labels, stale_objects};
