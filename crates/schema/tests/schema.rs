//! Integration tests of the schema crate: resource and type tables, strategic merge patch against
//! Kustomize's output (golden corpus), Kubernetes-mode SMP, JSON patch and JSON merge patch.

mod schema {
    mod json_patch;
    mod lookup;
    mod merge_patch;
    mod smp_golden;
    mod smp_kubernetes;
}
