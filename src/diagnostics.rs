//! Diagnostics: per-layer statistics and warnings that explain why a network does not learn.
