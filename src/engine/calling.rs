//! Who is calling, through which application (issue 11): a session's client and the permissions
//! it brings, the check every surface makes before a call reaches the rest of the engine, and the
//! grants an administrator gives an application.
//!
//! A call passes when its client holds one of the permissions its kind of call accepts
//! (`model::permissions::Access`): pimlab's first-party client holds them all (delegated); a
//! tenant's application holds what it was granted, delegated scopes when a user signs in through
//! it, application permissions when it acts as itself. What the user may do beyond that (a
//! directory role for an administrator's request) the engine decides as before.

use super::audit::{About, Activity, Audit, Entry};
use super::directory::{require_admin, unauthorized};
use super::{Client, Engine, Session};
use crate::model::permissions::AppPermission;
use crate::model::permissions::{Access, PermissionKind, permission};
use crate::model::{ApiError, ErrorCode, PrincipalKind};
use crate::store::{AuditTarget, Tx};

/// Refuses a call the session's client holds no permission for, as Graph refuses it (addendum
/// §6): 403 `UnknownError` whose message is itself JSON naming `PermissionScopeNotGranted` and the
/// acceptable permissions.
pub fn check_access(session: &Session, access: Access) -> Result<(), ApiError> {
    let (held, kind) = match &session.client {
        Client::FirstParty => return Ok(()),
        Client::Delegated { scopes, .. } => (scopes, PermissionKind::Delegated),
        Client::AppOnly { roles, .. } => (roles, PermissionKind::Application),
    };
    let supported = kind == PermissionKind::Delegated || access.app_only_supported();
    if supported && access.accepted().iter().any(|a| held.iter().any(|h| h.eq_ignore_ascii_case(a))) {
        return Ok(());
    }
    let accepted = access.accepted().join(",");
    let inner = serde_json::json!({
        "errorCode": "PermissionScopeNotGranted",
        "message": format!("Authorization failed due to missing permission scope {accepted}."),
        "instanceAnnotations": [],
    });
    let explanation = if supported {
        format!(
            "the call takes any of these {} permissions: {accepted}; the application holds {}",
            kind.as_str(),
            if held.is_empty() { "none".to_string() } else { held.join(", ") }
        )
    } else {
        "this call needs a signed-in user: an application cannot make it as itself (reference §8)".to_string()
    };
    Err(ApiError::new(403, ErrorCode::UnknownError, inner.to_string()).with_detail(
        "PermissionScopeNotGranted",
        "scope",
        explanation,
    ))
}

/// The service principal named by `text` (id, name or app name), refusing anything else.
fn application(tx: &Tx<'_>, text: &str) -> Result<crate::model::DirectoryObject, ApiError> {
    let o = super::directory::resolve_object(tx, text, "app")?;
    if o.kind != PrincipalKind::ServicePrincipal {
        return Err(ApiError::bad_request(
            "app",
            format!("'{}' is a {}, not an application's service principal", o.display_name, o.kind.as_str()),
        ));
    }
    Ok(o)
}

/// Refuses a caller who may not read everyone's directory-role requests, schedules and instances
/// (`own`: the item, or every item asked for, is the caller's, which anyone may read).
fn require_reader(tx: &Tx<'_>, session: &Session, own: bool) -> Result<(), ApiError> {
    // An application acting as itself reads with its application permission, checked already.
    if own || session.is_app_only() {
        return Ok(());
    }
    for role in super::fidelity::PIM_READER_ROLES {
        if super::directory::holds_role(tx, &session.caller, role)? {
            return Ok(());
        }
    }
    Err(unauthorized().with_fix(
        "NotAReader",
        "caller",
        "reading everyone's requests, schedules and instances needs an active Global Administrator, Privileged Role Administrator, Global Reader, Security Administrator or Security Reader role; anyone reads their own",
        crate::model::Hint::ReadOwn,
    ))
}

impl Engine {
    /// Refuses a caller who may not read everyone's directory-role requests, schedules and
    /// instances, unless what is read is their own (`own`); see `fidelity::PIM_READER_ROLES`.
    pub fn require_pim_reader(&mut self, session: &Session, own: bool) -> Result<(), ApiError> {
        self.read(|tx, _| require_reader(tx, session, own))
    }

    /// Whether `principal` is the caller or a group the caller is in.
    pub fn is_callers(&mut self, session: &Session, principal: &str) -> Result<bool, ApiError> {
        if principal.eq_ignore_ascii_case(&session.caller) {
            return Ok(true);
        }
        Ok(self.groups_of(&session.caller)?.iter().any(|g| g.eq_ignore_ascii_case(principal)))
    }

    /// Whether request `q` is the caller's to read without a reader's role: for them (or a group
    /// of theirs), made by them, or waiting for their decision.
    pub fn is_own_request(
        &mut self,
        session: &Session,
        q: &crate::model::ScheduleRequest,
    ) -> Result<bool, ApiError> {
        Ok(self.is_callers(session, &q.principal_id)?
            || q.created_by.eq_ignore_ascii_case(&session.caller)
            || self.is_approver(&session.caller, q)?)
    }

    /// The client of a call through application `app`: for the signed-in user with its delegated
    /// scopes (`signed_in`), else as itself with its application permissions. Returns the
    /// service principal's id with the client.
    pub fn client_for(&mut self, app: &str, signed_in: bool) -> Result<(String, Client), ApiError> {
        self.read(|tx, _| {
            let sp = application(tx, app)?;
            let want = if signed_in { PermissionKind::Delegated } else { PermissionKind::Application };
            let held: Vec<String> = tx
                .app_permissions(&sp.id)?
                .into_iter()
                .filter(|p| p.kind == want)
                .map(|p| p.permission)
                .collect();
            let client = if signed_in {
                Client::Delegated { app: sp.id.clone(), scopes: held }
            } else {
                Client::AppOnly { app: sp.id.clone(), roles: held }
            };
            Ok((sp.id, client))
        })
    }

    /// Grants application `app` a Microsoft Graph permission (admin consent). Needs a signed-in
    /// Privileged Role Administrator or Global Administrator.
    pub fn grant_permission(
        &mut self,
        session: &Session,
        app: &str,
        kind: PermissionKind,
        name: &str,
    ) -> Result<AppPermission, ApiError> {
        self.write(|tx, ctx| {
            require_consenter(tx, session)?;
            let sp = application(tx, app)?;
            let name = permission(name).ok_or_else(|| {
                ApiError::bad_request(
                    "permission",
                    format!(
                        "'{name}' is not a Microsoft Graph permission pimlab knows ({})",
                        crate::model::permissions::PERMISSIONS.join(", ")
                    ),
                )
            })?;
            if tx.app_permissions(&sp.id)?.iter().any(|p| p.kind == kind && p.permission == name) {
                return Err(ApiError::new(
                    409,
                    ErrorCode::Conflict,
                    format!("'{}' already holds the {} permission {name}", sp.display_name, kind.as_str()),
                ));
            }
            let grant = AppPermission {
                id: super::new_id(tx, ctx)?,
                app_id: sp.id.clone(),
                kind,
                permission: name.to_string(),
                granted_at: ctx.now,
                granted_by: session.caller.clone(),
            };
            tx.insert_app_permission(&grant)?;
            let row = consent_row(tx, ctx, session, &sp, kind, name, true)?;
            Ok((grant, Audit::of(row)))
        })
    }

    /// Takes a permission back from application `app`.
    pub fn revoke_permission(
        &mut self,
        session: &Session,
        app: &str,
        kind: PermissionKind,
        name: &str,
    ) -> Result<(), ApiError> {
        self.write(|tx, ctx| {
            require_consenter(tx, session)?;
            let sp = application(tx, app)?;
            let held = permission(name).unwrap_or(name);
            if !tx.delete_app_permission(&sp.id, kind, held)? {
                return Err(ApiError::new(
                    404,
                    ErrorCode::ResourceNotFound,
                    format!("'{}' holds no {} permission {name}", sp.display_name, kind.as_str()),
                ));
            }
            let row = consent_row(tx, ctx, session, &sp, kind, held, false)?;
            Ok(((), Audit::of(row)))
        })
    }

    /// The service principal whose application id (or object id) is `app_id`, as a token's
    /// `appid` names it.
    pub fn app_by_app_id(&mut self, app_id: &str) -> Result<Option<String>, ApiError> {
        self.read(|tx, _| {
            Ok(tx
                .objects(PrincipalKind::ServicePrincipal)?
                .into_iter()
                .find(|o| {
                    o.id.eq_ignore_ascii_case(app_id)
                        || o.app_id.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(app_id))
                })
                .map(|o| o.id))
        })
    }

    /// An application's service principal and the permissions it holds.
    pub fn app_permissions(
        &mut self,
        app: &str,
    ) -> Result<(crate::model::DirectoryObject, Vec<AppPermission>), ApiError> {
        self.read(|tx, _| {
            let sp = application(tx, app)?;
            let held = tx.app_permissions(&sp.id)?;
            Ok((sp, held))
        })
    }
}

/// Consent is an administrator's act, made signed in: an application cannot grant itself more.
fn require_consenter(tx: &Tx<'_>, session: &Session) -> Result<(), ApiError> {
    if session.is_app_only() {
        return Err(unauthorized().with_detail(
            "Consent",
            "caller",
            "granting an application's permissions needs a signed-in administrator",
        ));
    }
    require_admin(tx, session, "Granting an application's permissions")
}

fn consent_row(
    tx: &Tx<'_>,
    ctx: &super::Ctx,
    session: &Session,
    sp: &crate::model::DirectoryObject,
    kind: PermissionKind,
    name: &str,
    granted: bool,
) -> Result<Entry, ApiError> {
    let about = About::Targets(vec![
        AuditTarget {
            id: sp.id.clone(),
            kind: "ServicePrincipal".into(),
            display_name: Some(sp.display_name.clone()),
        },
        AuditTarget { id: name.to_string(), kind: "Other".into(), display_name: Some(name.to_string()) },
    ]);
    Entry::new(tx, ctx, &session.caller, Activity::AppPermission { kind, granted }, about)
}
