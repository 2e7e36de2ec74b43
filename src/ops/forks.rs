//! `fork NEW.db` (a consistent copy of the store in a new file) and `diff A.db B.db` (the
//! privilege diff of two store files). Both name files, so only a surface that may touch files
//! (the command line, the REPL) runs them: a script never opens or forks a store.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

use super::values::{self, de};
use super::{Access, Forked, Outcome};
use crate::engine::Engine;
use crate::model::time::{IsoDuration, format_timestamp};
use crate::model::{ApiError, ErrorCode, Timestamp};
use crate::report::{DiffQuery, Over};

/// `fork NEW.db`: copy the store, as of one instant, to a new file.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct ForkArgs {
    /// The new store file; it must not exist (a fork never overwrites).
    pub path: PathBuf,
}

/// `diff A.db B.db`: who gains and who loses which privilege in B against A.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct DiffArgs {
    /// The store compared against (e.g. the original).
    pub a: PathBuf,
    /// The store compared (e.g. its fork): its extra privileges are gains, its missing ones losses.
    pub b: PathBuf,
    /// When (ISO 8601; default the later of the two stores' clocks).
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub at: Option<Timestamp>,
    /// Also every instant of this period after --at (ISO 8601 duration, e.g. P7D) at which either
    /// store's holdings change.
    #[arg(long, value_name = "PERIOD", value_parser = values::duration)]
    #[serde(default, deserialize_with = "de::duration")]
    pub over: Option<IsoDuration>,
}

fn refuse_script(access: Access, what: &str) -> Result<(), ApiError> {
    if access.read_files {
        return Ok(());
    }
    Err(ApiError::usage(format!(
        "scripts cannot {what}: a script works on its own store only; run `pimlab {what}` from a terminal \
         (or `pimlab whatif SCRIPT.lua` to run a script on a private fork)"
    )))
}

pub(super) fn fork(engine: &mut Engine, a: &ForkArgs, access: Access) -> Result<Outcome, ApiError> {
    refuse_script(access, "fork")?;
    let shown = a.path.display().to_string();
    let exists = |why: &str| {
        ApiError::new(
            409,
            ErrorCode::PimlabForkTargetExists,
            format!("{shown}{why}: a fork never overwrites; name a new file"),
        )
    };
    // A stale write-ahead log beside the name would be read into the new store when it opens.
    if wal_of(&a.path).exists() {
        return Err(exists(" has a write-ahead log (-wal file) beside it"));
    }
    // Made here, atomically, so that no file that appears meanwhile is overwritten; SQLite then
    // fills the empty file.
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&a.path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists(" exists")),
        Err(e) => return Err(ApiError::usage(format!("cannot create {shown}: {e}"))),
    }
    if let Err(e) = engine.fork_to(&a.path) {
        let _ = std::fs::remove_file(&a.path);
        let _ = std::fs::remove_file(wal_of(&a.path));
        return Err(ApiError::internal(format!("cannot fork the store to {shown}: {e}")));
    }
    Ok(Outcome::Forked(Forked {
        path: shown,
        tenant_id: engine.tenant_id()?,
        clock: format_timestamp(engine.now()?),
    }))
}

fn wal_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    name.into()
}

pub(super) fn diff(a: &DiffArgs, access: Access) -> Result<Outcome, ApiError> {
    refuse_script(access, "diff")?;
    let mut ea = open_store(&a.a)?;
    let mut eb = open_store(&a.b)?;
    let q = DiffQuery { at: a.at, over: a.over.map(Over::For) };
    let (na, nb) = (a.a.display().to_string(), a.b.display().to_string());
    Ok(Outcome::Diff(crate::report::privilege_diff((&na, &mut ea), (&nb, &mut eb), &q)?))
}

/// A store file that must exist and hold a tenant (opening never creates one here).
pub fn open_store(path: &Path) -> Result<Engine, ApiError> {
    let shown = path.display();
    let unavailable = |why: String| ApiError::new(400, ErrorCode::PimlabStoreUnavailable, why);
    if !path.is_file() {
        return Err(unavailable(format!("there is no store at {shown}")));
    }
    let mut engine = Engine::open(path).map_err(|e| unavailable(e.to_string()))?;
    if !engine.is_initialized()? {
        return Err(unavailable(format!("{shown} holds no tenant yet")));
    }
    Ok(engine)
}
