//! Bearer tokens (issue 12): unsigned JWTs with the claims real Entra tokens carry, minted by
//! `pimlab token` and read back by `pimlab serve` into a [`Session`]. The lab trusts what a token
//! says, as a resource trusts a token its issuer signed: its scopes are those granted when it was
//! minted.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::engine::{Client, Engine, Session};
use crate::model::{ApiError, ErrorCode, PrincipalKind};

/// The application id pimlab's own first-party client signs in with (what `--as` alone uses).
pub const FIRST_PARTY_APP_ID: &str = "e7c3a1d2-7b4f-4c1e-9a5d-0f1e2d3c4b5a";

/// How long a minted token is valid, as Entra's default access tokens are (about an hour).
const LIFETIME_SECONDS: i64 = 3600;

/// What `pimlab token` is asked for.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    /// The signed-in user (none: the application alone).
    pub user: Option<String>,
    /// The application (none: pimlab's first-party client).
    pub app: Option<String>,
    pub mfa: bool,
    pub auth_contexts: Vec<String>,
}

/// Mints a token for `request` on the store's tenant, dated by the simulated clock.
pub fn mint(engine: &mut Engine, request: &TokenRequest) -> Result<String, ApiError> {
    let tenant = engine.tenant_id()?;
    let now = engine.now()?.timestamp();
    let mut claims = json!({
        "aud": "https://graph.microsoft.com",
        "iss": format!("https://sts.windows.net/{tenant}/"),
        "iat": now, "nbf": now, "exp": now + LIFETIME_SECONDS,
        "tid": tenant,
        "ver": "1.0",
    });
    let user = match &request.user {
        Some(u) => {
            let o = engine.resolve_object(u)?;
            if o.kind != PrincipalKind::User {
                return Err(ApiError::usage(format!(
                    "'{}' is a {}: only users sign in",
                    o.display_name,
                    o.kind.as_str()
                )));
            }
            Some(o)
        }
        None => None,
    };
    match (&request.app, &user) {
        (None, None) => {
            return Err(ApiError::usage("a token is for a user (--as), an application (--app), or both"));
        }
        (None, Some(u)) => {
            claims["appid"] = json!(FIRST_PARTY_APP_ID);
            claims["oid"] = json!(u.id);
            claims["upn"] = json!(u.user_principal_name);
            claims["scp"] = json!(crate::model::permissions::PERMISSIONS.join(" "));
        }
        (Some(app), signed_in) => {
            let (sp, held) = engine.app_permissions(app)?;
            let kind = if signed_in.is_some() {
                crate::model::permissions::PermissionKind::Delegated
            } else {
                crate::model::permissions::PermissionKind::Application
            };
            let granted: Vec<String> =
                held.into_iter().filter(|p| p.kind == kind).map(|p| p.permission).collect();
            claims["appid"] = json!(sp.app_id.clone().unwrap_or(sp.id.clone()));
            claims["app_displayname"] = json!(sp.display_name);
            match signed_in {
                Some(u) => {
                    claims["oid"] = json!(u.id);
                    claims["upn"] = json!(u.user_principal_name);
                    claims["scp"] = json!(granted.join(" "));
                }
                None => {
                    claims["oid"] = json!(sp.id);
                    claims["idtyp"] = json!("app");
                    claims["roles"] = json!(granted);
                }
            }
        }
    }
    if user.is_some() {
        claims["amr"] = if request.mfa { json!(["pwd", "mfa"]) } else { json!(["pwd"]) };
        claims["acrs"] = json!(request.auth_contexts);
    }
    let header = json!({"typ": "JWT", "alg": "none"});
    Ok(format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    ))
}

/// Why a token cannot be used: Graph's and ARM's 401.
fn invalid(why: impl Into<String>) -> ApiError {
    ApiError::new(401, ErrorCode::InvalidAuthenticationToken, "Access token validation failure.").with_detail(
        "InvalidToken",
        "Authorization",
        why,
    )
}

/// The claims of a bearer token, without checking a signature (pimlab's tokens have none).
pub fn claims(token: &str) -> Result<Value, ApiError> {
    let mut parts = token.trim().split('.');
    let (Some(_), Some(body)) = (parts.next(), parts.next()) else {
        return Err(invalid("a bearer token is three dot-separated parts: header.claims.signature"));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(body.trim_end_matches('='))
        .map_err(|e| invalid(format!("the claims are not base64url: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| invalid(format!("the claims are not JSON: {e}")))
}

/// The session a token stands for on this store's tenant: its user or application (`oid`), the
/// application it came through (`appid`), its scopes or roles, MFA (`amr`) and authentication
/// contexts (`acrs`). A token for another tenant, or past its expiry on the simulated clock, is
/// refused.
pub fn session(engine: &mut Engine, token: &str) -> Result<Session, ApiError> {
    let c = claims(token)?;
    let text = |key: &str| c.get(key).and_then(Value::as_str).map(str::to_string);
    let tenant = engine.tenant_id()?;
    if text("tid").as_deref() != Some(tenant.as_str()) {
        return Err(invalid(format!(
            "the token is for tenant '{}', not this one ({tenant})",
            text("tid").unwrap_or_default()
        )));
    }
    if let Some(exp) = c.get("exp").and_then(Value::as_i64) {
        if exp <= engine.now()?.timestamp() {
            return Err(ApiError::new(
                401,
                ErrorCode::InvalidAuthenticationToken,
                "Lifetime validation failed, the token is expired.",
            )
            .with_detail(
                "Expired",
                "Authorization",
                "mint a new one with `pimlab token`: tokens last an hour of simulated time",
            ));
        }
    }
    let oid = text("oid").ok_or_else(|| invalid("the token names no principal (oid)"))?;
    let caller =
        engine.object(&oid)?.ok_or_else(|| invalid(format!("no principal '{oid}' in this tenant")))?;
    let app_id = text("appid").unwrap_or_default();
    let list = |key: &str| -> Vec<String> {
        match c.get(key) {
            Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => Vec::new(),
        }
    };
    let app_only = text("idtyp").as_deref() == Some("app") || caller.kind == PrincipalKind::ServicePrincipal;
    let client = if app_only {
        Client::AppOnly { app: caller.id.clone(), roles: list("roles") }
    } else if app_id == FIRST_PARTY_APP_ID {
        Client::FirstParty
    } else {
        let sp = engine
            .app_by_app_id(&app_id)?
            .ok_or_else(|| invalid(format!("no application '{app_id}' in this tenant")))?;
        Client::Delegated { app: sp, scopes: list("scp") }
    };
    Ok(Session {
        caller: caller.id,
        mfa: list("amr").iter().any(|m| m == "mfa") || app_only,
        auth_contexts: list("acrs"),
        client,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_read_back_what_was_written() {
        let body = json!({"oid": "x", "tid": "t"});
        let token = format!("e30.{}.", URL_SAFE_NO_PAD.encode(body.to_string()));
        assert_eq!(claims(&token).unwrap(), body);
        assert_eq!(claims("nonsense").unwrap_err().status, 401);
        assert_eq!(claims("a.!!!.b").unwrap_err().status, 401);
    }
}
