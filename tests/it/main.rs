//! pimlab's integration tests: one test binary, with one shared harness (`harness`).

mod harness;

mod approvals;
mod architecture;
mod arm_approvals;
mod arm_custom_roles;
mod arm_policies;
mod arm_router;
mod audit_commit;
mod calling;
mod cli;
mod docs;
mod easypim;
mod engine_lifecycle;
mod exchange_csv;
mod exchange_export;
mod exchange_json;
mod graph_annotations;
mod graph_bodies;
mod graph_router;
mod groups_graph;
mod groups_properties;
mod hooks;
mod lifecycle_properties;
mod repl;
mod replay;
mod robustness;
mod router_fuzz;
mod sandbox;
mod sandbox_patterns;
mod scripts;
mod serve;
mod store_caches;
mod surface_words;
mod transcripts;
mod who;
