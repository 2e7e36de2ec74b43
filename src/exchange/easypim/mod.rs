//! EasyPIM configurations (the JSON EasyPIM's orchestrator reads): `pimlab apply` applies one to
//! the store with EasyPIM's semantics, or with `--what-if` reports what it would do, changing
//! nothing.

use std::io::Write;
use std::path::PathBuf;

use crate::engine::{Engine, Session};
use crate::model::ApiError;

/// EasyPIM's `-Mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Adds and updates; removes nothing.
    Delta,
    /// Also removes what the configuration does not declare, except protected users.
    Initial,
}

/// What `apply` was asked to do.
pub struct ApplyOptions<'a> {
    pub config: &'a PathBuf,
    pub what_if: bool,
    pub mode: Mode,
}

/// Applies (or previews) the configuration, writing EasyPIM's summary to `out`.
pub fn apply(
    _engine: &mut Engine,
    _session: &Session,
    _options: &ApplyOptions<'_>,
    _out: &mut dyn Write,
) -> Result<(), ApiError> {
    Err(ApiError::new(501, crate::model::ErrorCode::PimlabNotModelled, "apply is being built"))
}

/// The tenant's policies and assignments as an EasyPIM configuration (`export --format easypim`).
pub fn export(_engine: &mut Engine, _session: &Session, _out: &mut dyn Write) -> Result<(), ApiError> {
    Err(ApiError::new(
        501,
        crate::model::ErrorCode::PimlabNotModelled,
        "export --format easypim is being built",
    ))
}
