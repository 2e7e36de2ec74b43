//! Directory objects: `users`, `groups`, `servicePrincipals`, `directory/administrativeUnits`
//! (list, read, create, members and owners) and `me`.

use crate::model::ErrorCode;

use super::{Call, Response, method_not_allowed};
use crate::api::{body, views};
use crate::model::{ApiError, PrincipalKind};

impl Call<'_> {
    pub(super) fn objects(
        &mut self,
        kind: PrincipalKind,
        collection: &str,
        rest: &[&str],
    ) -> Result<Response, ApiError> {
        let type_name = kind.odata_type().trim_start_matches("#microsoft.graph.");
        match (rest, self.method.as_str()) {
            ([], "POST") => {
                let new = body::directory_object(kind, self.body_text()?)?;
                let o = self.engine.create_object(self.session, new)?;
                Ok(Response::created(self.created_entity(collection, views::directory_object(&o))))
            }
            ([], "GET") => {
                self.check_filter(
                    &[
                        "id",
                        "displayName",
                        "userPrincipalName",
                        "mail",
                        "accountEnabled",
                        "isAssignableToRole",
                        "securityEnabled",
                        "mailEnabled",
                        "appId",
                        "description",
                        "createdDateTime",
                    ],
                    type_name,
                )?;
                let expands: &[&str] = match kind {
                    PrincipalKind::Group => &["members", "owners"],
                    PrincipalKind::AdministrativeUnit => &["members"],
                    _ => &[],
                };
                self.check_expands(expands, type_name)?;
                let mut items = Vec::new();
                for o in self.engine.objects(kind)? {
                    let mut v = views::directory_object(&o);
                    self.expand_relations(&mut v, &o.id, expands)?;
                    items.push(v);
                }
                self.collection(self.context(collection), items)
            }
            ([id], "GET") => {
                let o = self.engine.object(id)?.filter(|o| o.kind == kind);
                let o = match o {
                    Some(o) => o,
                    // Users can also be addressed by user principal name.
                    None if kind == PrincipalKind::User => self
                        .engine
                        .resolve_object(id)
                        .ok()
                        .filter(|o| {
                            o.kind == kind
                                && o.user_principal_name
                                    .as_deref()
                                    .is_some_and(|u| u.eq_ignore_ascii_case(id))
                        })
                        .ok_or_else(|| {
                            ApiError::not_found(ErrorCode::Request_ResourceNotFound, "Resource", id)
                        })?,
                    None => {
                        return Err(ApiError::not_found(ErrorCode::Request_ResourceNotFound, "Resource", id));
                    }
                };
                let v = views::directory_object(&o);
                self.entity(self.context(&format!("{collection}/$entity")), v)
            }
            ([id, "appRoleAssignments"], "GET") if kind == PrincipalKind::ServicePrincipal => {
                let (sp, held) = self.engine.app_permissions(id)?;
                let items = views::app_role_assignments(&sp, &held);
                self.collection(
                    self.context(&format!("servicePrincipals('{}')/appRoleAssignments", sp.id)),
                    items,
                )
            }
            ([id, rel @ ("members" | "owners")], "GET") => {
                let relation = if *rel == "members" { "member" } else { "owner" };
                let items = self.engine.members(id, relation)?.iter().map(views::directory_object).collect();
                self.collection(self.context("directoryObjects"), items)
            }
            ([id, rel @ ("members" | "owners"), "$ref"], "POST") => {
                let relation = if *rel == "members" { "member" } else { "owner" };
                let member = body::reference(self.body_text()?)?;
                self.engine.add_member(self.session, id, &member, relation)?;
                Ok(Response::no_content())
            }
            _ => Err(method_not_allowed(&self.method, &self.path())),
        }
    }

    /// Embeds the `members` and `owners` a list was expanded on (`$expand=members`), each the
    /// related directory objects as Graph lists them, ordered by id.
    fn expand_relations(
        &mut self,
        v: &mut serde_json::Value,
        id: &str,
        allowed: &[&str],
    ) -> Result<(), ApiError> {
        for rel in allowed {
            if self.query.expand_item(rel).is_none() && !self.query.expand.iter().any(|e| e.name == "*") {
                continue;
            }
            let relation = if *rel == "members" { "member" } else { "owner" };
            let mut related = self.engine.members(id, relation)?;
            related.sort_by(|a, b| a.id.cmp(&b.id));
            v[*rel] = related.iter().map(views::directory_object).collect::<Vec<_>>().into();
        }
        Ok(())
    }

    /// `GET /oauth2PermissionGrants?$filter=clientId eq '{id}'`: an application's delegated
    /// scopes (the filter on `clientId` is required: pimlab keeps grants per application).
    pub(super) fn permission_grants(&mut self) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        let client = self.query.filter.as_ref().and_then(|f| f.required_eq("clientId")).ok_or_else(|| {
            ApiError::new(400, ErrorCode::BadRequest, "The filter on clientId is required.").with_detail(
                "MissingFilter",
                "$filter",
                "add $filter=clientId eq '{servicePrincipalId}'",
            )
        })?;
        let (sp, held) = self.engine.app_permissions(&client)?;
        let items = views::permission_grants(&sp, &held);
        self.collection(self.context("oauth2PermissionGrants"), items)
    }

    /// `GET /me`: the caller.
    pub(super) fn me(&mut self) -> Result<Response, ApiError> {
        self.require_method(&["GET"])?;
        let caller = self.session.caller.clone();
        let o = self
            .engine
            .object(&caller)?
            .ok_or_else(|| ApiError::not_found(ErrorCode::Request_ResourceNotFound, "Object", &caller))?;
        let v = views::directory_object(&o);
        self.entity(self.context("users/$entity"), v)
    }
}
