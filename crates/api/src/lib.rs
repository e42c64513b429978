//! Flux v2 API types (CRDs) for every served group/version, and CRD generation.
