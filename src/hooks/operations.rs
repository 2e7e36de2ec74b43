//! Lua tables to typed operations: how `pim.activate{role = ..., duration = ...}` becomes the same
//! [`Operation`] the command line parses from `activate --role ... --duration ...`, with no text in
//! between. Keys are the command line's flags with `_` for `-`; an unknown key is an error that
//! names it and lists the known ones, as clap would for an unknown flag.

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::HashMap;

use mlua::{Lua, LuaSerdeExt, Value};
use serde::de::DeserializeOwned;

use crate::model::ApiError;
use crate::ops::*;

/// The operation `name` (as the `pim` API names it: `"eligible.assign"`, `"activate"`, ...) with
/// the arguments in `args` (a table, or nil for none), and what the table says about the session
/// (`as`, `no_mfa`, `auth_context`, `app`: the command line's global flags).
pub fn operation(lua: &Lua, name: &str, args: Value) -> Result<(Operation, SessionOptions), ApiError> {
    let (args, session) = session_options(lua, name, args)?;
    Ok((decode(lua, name, args)?, session))
}

/// Takes the session keys out of a copy of the table.
fn session_options(lua: &Lua, name: &str, args: Value) -> Result<(Value, SessionOptions), ApiError> {
    let Value::Table(t) = &args else {
        return Ok((args, SessionOptions::default()));
    };
    let bad = |key: &str, want: &str| ApiError::usage(format!("pim.{name}: '{key}' must be {want}"));
    let get = |key: &str| t.raw_get::<Value>(key).unwrap_or(Value::Nil);
    let (who, no_mfa, claims, app) = (get("as"), get("no_mfa"), get("auth_context"), get("app"));
    if who.is_nil() && no_mfa.is_nil() && claims.is_nil() && app.is_nil() {
        return Ok((args, SessionOptions::default()));
    }
    let mut options = SessionOptions::default();
    match app {
        Value::Nil => {}
        Value::String(s) => options.app = Some(s.to_string_lossy().to_string()),
        _ => return Err(bad("app", "an application's name or id")),
    }
    match who {
        Value::Nil => {}
        Value::String(s) => options.as_principal = Some(s.to_string_lossy().to_string()),
        _ => return Err(bad("as", "a principal's name or id")),
    }
    match no_mfa {
        Value::Nil => {}
        Value::Boolean(b) => options.no_mfa = b,
        _ => return Err(bad("no_mfa", "true or false")),
    }
    match claims {
        Value::Nil => {}
        Value::String(s) => options.auth_contexts.push(s.to_string_lossy().to_string()),
        Value::Table(list) => {
            for claim in list.sequence_values::<String>() {
                options
                    .auth_contexts
                    .push(claim.map_err(|_| bad("auth_context", "a claim or a list of claims"))?);
            }
        }
        _ => return Err(bad("auth_context", "a claim or a list of claims")),
    }
    let copy = lua.create_table().map_err(|e| ApiError::usage(e.to_string()))?;
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair.map_err(|e| ApiError::usage(e.to_string()))?;
        if !matches!(&k, Value::String(s) if matches!(s.to_str().as_deref(), Ok("as" | "no_mfa" | "auth_context" | "app")))
        {
            copy.raw_set(k, v).map_err(|e| ApiError::usage(e.to_string()))?;
        }
    }
    Ok((Value::Table(copy), options))
}

fn decode(lua: &Lua, name: &str, args: Value) -> Result<Operation, ApiError> {
    let d = Decoder { lua, name, args };
    Ok(match name {
        "eligible.assign" => Operation::Eligible { action: AdminAction::Assign(d.args()?) },
        "eligible.update" => Operation::Eligible { action: AdminAction::Update(d.args()?) },
        "eligible.remove" => Operation::Eligible { action: AdminAction::Remove(d.args()?) },
        "eligible.extend" => Operation::Eligible { action: AdminAction::Extend(d.args()?) },
        "eligible.renew" => Operation::Eligible { action: AdminAction::Renew(d.args()?) },
        "eligible.list" => Operation::Eligible { action: AdminAction::List(d.args()?) },
        "active.assign" => Operation::Active { action: AdminAction::Assign(d.args()?) },
        "active.update" => Operation::Active { action: AdminAction::Update(d.args()?) },
        "active.remove" => Operation::Active { action: AdminAction::Remove(d.args()?) },
        "active.extend" => Operation::Active { action: AdminAction::Extend(d.args()?) },
        "active.renew" => Operation::Active { action: AdminAction::Renew(d.args()?) },
        "active.list" => Operation::Active { action: AdminAction::List(d.args()?) },
        "activate" => Operation::Activate(d.args()?),
        "deactivate" => Operation::Deactivate(d.args()?),
        "extend" => Operation::Extend(d.args()?),
        "renew" => Operation::Renew(d.args()?),
        "requests" => Operation::Requests(d.args()?),
        "request.show" => Operation::Request { action: RequestAction::Show(d.args()?) },
        "request.cancel" => Operation::Request { action: RequestAction::Cancel(d.args()?) },
        "request.explain" => Operation::Request { action: RequestAction::Explain(d.args()?) },
        "approvals" => Operation::Approvals(d.args()?),
        "approve" => Operation::Approve(d.args()?),
        "deny" => Operation::Deny(d.args()?),
        "notifications" => Operation::Notifications(d.args()?),
        "role.list" => Operation::Role { action: RoleAction::List(d.args()?) },
        "role.show" => Operation::Role { action: RoleAction::Show(d.args()?) },
        "role.add" => Operation::Role { action: RoleAction::Add(d.args()?) },
        "role.delete" => Operation::Role { action: RoleAction::Delete(d.args()?) },
        "policy.show" => Operation::Policy { action: PolicyAction::Show(d.args()?) },
        "policy.set" => Operation::Policy { action: PolicyAction::Set(d.args()?) },
        "hook.add" => {
            Operation::Hook { action: HookAction::Add(d.source_only(|a: &mut HookAddArgs| &mut a.file)?) }
        }
        "hook.list" => Operation::Hook { action: d.none(HookAction::List)? },
        "hook.show" => Operation::Hook { action: HookAction::Show(d.args()?) },
        "hook.remove" => Operation::Hook { action: HookAction::Remove(d.args()?) },
        "hook.update" => Operation::Hook {
            action: HookAction::Update(d.source_only(|a: &mut HookUpdateArgs| &mut a.file)?),
        },
        "hook.test" => Operation::Hook { action: HookAction::Test(d.args()?) },
        "clock.show" => Operation::Clock { action: d.none(Some(ClockAction::Show))? },
        "clock.set" => Operation::Clock { action: Some(ClockAction::Set(d.args()?)) },
        "clock.advance" => Operation::Clock { action: Some(ClockAction::Advance(d.args()?)) },
        "audit" => Operation::Audit(d.args()?),
        "who" => Operation::Who(d.args()?),
        "check" => Operation::Check(d.source_only(|a: &mut CheckArgs| &mut a.props)?),
        "fuzz" => Operation::Fuzz(d.source_only(|a: &mut FuzzArgs| &mut a.props)?),
        "access" => Operation::Access(d.args()?),
        "report.activity" => Operation::Report { action: ReportAction::Activity(d.args()?) },
        "timeline" => Operation::Timeline(d.args()?),
        "alerts" => Operation::Alerts { action: d.none(None)? },
        "alerts.config" => Operation::Alerts { action: d.none(Some(AlertsAction::Config))? },
        "alerts.set" => Operation::Alerts { action: Some(AlertsAction::Set(d.args()?)) },
        "alerts.dismiss" => Operation::Alerts { action: Some(AlertsAction::Dismiss(d.args()?)) },
        "alerts.refresh" => Operation::Alerts { action: Some(AlertsAction::Refresh(d.args()?)) },
        "replay" => Operation::Replay(d.source_only(|a: &mut ReplayArgs| &mut a.hook)?),
        "app.add" => Operation::App { action: AppAction::Add(d.args()?) },
        "app.grant" => Operation::App { action: AppAction::Grant(d.args()?) },
        "app.revoke" => Operation::App { action: AppAction::Revoke(d.args()?) },
        "app.show" => Operation::App { action: AppAction::Show(d.args()?) },
        "scope.add" => Operation::Scope { action: ScopeAction::Add(d.args()?) },
        "scope.list" => Operation::Scope { action: d.none(ScopeAction::List)? },
        "scope.show" => Operation::Scope { action: ScopeAction::Show(d.args()?) },
        "scope.tree" => Operation::Scope { action: ScopeAction::Tree(d.args()?) },
        "fidelity.show" => Operation::Config {
            action: ConfigAction::Fidelity { action: d.none(Some(FidelityAction::Show))? },
        },
        "fidelity.set" => Operation::Config {
            action: ConfigAction::Fidelity { action: Some(FidelityAction::Set(d.args()?)) },
        },
        other => {
            let (kind, verb) = other.split_once('.').unwrap_or((other, ""));
            let action = match verb {
                "add" => ObjectAction::Add(d.args()?),
                "list" => d.none(ObjectAction::List)?,
                "show" => ObjectAction::Show(d.args()?),
                "add_member" => ObjectAction::AddMember(d.args()?),
                "members" => ObjectAction::Members(d.args()?),
                _ => return Err(unknown_operation(other)),
            };
            match kind {
                "user" => Operation::User { action },
                "group" => Operation::Group { action },
                "sp" => Operation::Sp { action },
                "au" => Operation::Au { action },
                _ => return Err(unknown_operation(other)),
            }
        }
    })
}

fn unknown_operation(name: &str) -> ApiError {
    ApiError::usage(format!("pim: there is no operation '{name}'"))
}

struct Decoder<'a> {
    lua: &'a Lua,
    name: &'a str,
    args: Value,
}

impl Decoder<'_> {
    /// The arguments as `A`, refusing keys `A` does not have.
    fn args<A: DeserializeOwned + clap::Args + 'static>(&self) -> Result<A, ApiError> {
        let known = known_keys::<A>();
        let args = match &self.args {
            Value::Nil => Value::Table(self.lua.create_table().map_err(|e| self.error(e))?),
            Value::Table(t) => {
                for pair in t.pairs::<Value, Value>() {
                    let (key, _) = pair.map_err(|e| self.error(e))?;
                    let key = match key {
                        Value::String(s) => s.to_string_lossy().to_string(),
                        other => other.to_string().unwrap_or_else(|_| format!("{other:?}")),
                    };
                    if !known.contains(&key) {
                        return Err(ApiError::usage(format!(
                            "pim.{}: unknown option '{key}' (options: {})",
                            self.name,
                            known.join(", ")
                        )));
                    }
                }
                self.args.clone()
            }
            _ => {
                return Err(ApiError::usage(format!("pim.{}: options must be a table", self.name)));
            }
        };
        super::depth::check(&args, &format!("pim.{}", self.name)).map_err(ApiError::usage)?;
        self.lua.from_value(args).map_err(|e| self.error(e))
    }

    /// An operation that takes no arguments: an empty table or nil.
    fn none<T>(&self, value: T) -> Result<T, ApiError> {
        match &self.args {
            Value::Nil => Ok(value),
            Value::Table(t) if t.is_empty() => Ok(value),
            _ => Err(ApiError::usage(format!("pim.{} takes no options", self.name))),
        }
    }

    /// `hook add`, `hook update`, `check` or `fuzz` from a script: the Lua source is given, never
    /// read from a file (`file` picks the arguments' file field, which a script may not set).
    fn source_only<A: DeserializeOwned + clap::Args + 'static>(
        &self,
        file: fn(&mut A) -> &mut Option<std::path::PathBuf>,
    ) -> Result<A, ApiError> {
        let mut a: A = self.args()?;
        if file(&mut a).take().is_some() {
            return Err(ApiError::usage(format!(
                "pim.{}: scripts cannot read files; give the Lua source itself (`source`)",
                self.name
            )));
        }
        Ok(a)
    }

    fn error(&self, e: mlua::Error) -> ApiError {
        let text = e.to_string();
        // serde's messages are good ("missing field `role`"); mlua prefixes them.
        let text = text.strip_prefix("deserialize error: ").unwrap_or(&text);
        ApiError::usage(format!("pim.{}: {text}", self.name))
    }
}

thread_local! {
    static KNOWN: RefCell<HashMap<TypeId, &'static [String]>> = RefCell::new(HashMap::new());
}

/// The keys a script may give for `A`: its flags (long names, `_` for `-`) and positionals, as
/// clap knows them, so the two surfaces share one list. Computed once per type (and kept for the
/// life of the thread: one short list per argument type), so a call copies nothing.
fn known_keys<A: clap::Args + 'static>() -> &'static [String] {
    KNOWN.with(|known| {
        *known.borrow_mut().entry(TypeId::of::<A>()).or_insert_with(|| {
            let command = A::augment_args(clap::Command::new("pim"));
            let mut keys: Vec<String> = command
                .get_arguments()
                .flat_map(|a| {
                    let name = match a.get_long() {
                        Some(long) => long.replace('-', "_"),
                        None => a.get_id().to_string(),
                    };
                    // A flag's other visible names (`--access` for `--role`) are keys too.
                    let aliases = a.get_visible_aliases().unwrap_or_default();
                    std::iter::once(name).chain(aliases.into_iter().map(|x| x.replace('-', "_")))
                })
                .collect();
            // Fields clap does not show (`#[arg(skip)]`) but scripts give.
            if [
                TypeId::of::<HookAddArgs>(),
                TypeId::of::<HookUpdateArgs>(),
                TypeId::of::<CheckArgs>(),
                TypeId::of::<FuzzArgs>(),
                TypeId::of::<ReplayArgs>(),
            ]
            .contains(&TypeId::of::<A>())
            {
                keys.push("source".into());
            }
            Vec::leak(keys)
        })
    })
}
