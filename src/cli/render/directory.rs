//! The directory and the role catalog for a reader: objects, members, role definitions.

use std::io::{self, Write};

use super::{Names, finish, schedules_table, table};
use crate::engine::Engine;
use crate::model::PrincipalKind;
use crate::ops::Outcome;

pub(super) fn render(
    engine: &mut Engine,
    names: &mut Names,
    outcome: &Outcome,
    out: &mut dyn Write,
) -> io::Result<()> {
    match outcome {
        Outcome::RoleCreated(r) => writeln!(
            out,
            "Created custom role {} ({}) with {} permission(s)",
            r.display_name,
            r.id,
            r.allowed_resource_actions.len()
        ),
        Outcome::AzureRoleDefined(r) => writeln!(
            out,
            "Defined custom Azure role {} ({}) with {} action(s), assignable at and below {}",
            r.role_name,
            r.id,
            r.permissions.iter().map(|p| p.actions.len() + p.data_actions.len()).sum::<usize>(),
            r.assignable_scopes.join(", ")
        ),
        Outcome::RoleDeleted(r) => writeln!(out, "Deleted custom role {} ({})", r.display_name, r.id),
        Outcome::App { app, permissions } => {
            writeln!(out, "application {} ({})", app.display_name, app.id)?;
            if permissions.is_empty() {
                return writeln!(out, "  no Microsoft Graph permissions granted");
            }
            let mut t = table(&["kind", "permission", "granted", "by"]);
            for p in permissions {
                t.add_row(vec![
                    p.kind.as_str().to_string(),
                    p.permission.clone(),
                    crate::model::time::format_timestamp(p.granted_at),
                    names.principal(engine, &p.granted_by),
                ]);
            }
            writeln!(out, "{}", finish(&t))
        }
        Outcome::Roles(roles) if roles.is_empty() => writeln!(out, "no roles"),
        Outcome::Roles(roles) => {
            let mut t = table(&["role", "privileged", "built-in", "id"]);
            for r in roles {
                t.add_row(vec![
                    r.display_name.clone(),
                    if r.is_privileged { "yes" } else { "" }.to_string(),
                    if r.is_built_in { "yes" } else { "custom" }.to_string(),
                    r.id.clone(),
                ]);
            }
            writeln!(out, "{}", finish(&t))
        }
        Outcome::Role { role: r, eligible, active } => {
            writeln!(out, "{} ({})", r.display_name, r.id)?;
            if let Some(d) = &r.description {
                writeln!(out, "  {d}")?;
            }
            writeln!(
                out,
                "  built-in {}   privileged {}   enabled {}",
                r.is_built_in, r.is_privileged, r.is_enabled
            )?;
            writeln!(out, "  permissions:")?;
            for a in r.allowed_resource_actions.iter() {
                writeln!(out, "    {a}")?;
            }
            holders(engine, names, eligible, active, out)
        }
        Outcome::ObjectCreated(o) => writeln!(
            out,
            "Created {} {} ({}){}",
            o.kind.as_str(),
            o.display_name,
            o.id,
            o.user_principal_name.as_ref().map(|u| format!(", {u}")).unwrap_or_default()
        ),
        Outcome::Objects { kind, rows, .. } if rows.is_empty() => {
            let what = match kind {
                PrincipalKind::User => "users",
                PrincipalKind::Group => "groups",
                PrincipalKind::ServicePrincipal => "service principals",
                PrincipalKind::AdministrativeUnit => "administrative units",
            };
            writeln!(out, "no {what}")
        }
        Outcome::Objects { kind, rows, member_counts } => {
            let mut t = match kind {
                PrincipalKind::User => table(&["name", "user principal name", "id"]),
                PrincipalKind::Group => table(&["name", "role-assignable", "members", "id"]),
                _ => table(&["name", "id"]),
            };
            for (i, o) in rows.iter().enumerate() {
                match kind {
                    PrincipalKind::User => t.add_row(vec![
                        o.display_name.clone(),
                        o.user_principal_name.clone().unwrap_or_default(),
                        o.id.clone(),
                    ]),
                    PrincipalKind::Group => t.add_row(vec![
                        o.display_name.clone(),
                        if o.is_assignable_to_role { "yes" } else { "no" }.into(),
                        member_counts.get(i).copied().unwrap_or_default().to_string(),
                        o.id.clone(),
                    ]),
                    _ => t.add_row(vec![o.display_name.clone(), o.id.clone()]),
                };
            }
            writeln!(out, "{}", finish(&t))
        }
        Outcome::Object { object: o, eligible, active } => {
            writeln!(out, "{} {} ({})", o.kind.as_str(), o.display_name, o.id)?;
            if let Some(u) = &o.user_principal_name {
                writeln!(out, "  user principal name  {u}")?;
            }
            if o.kind == PrincipalKind::Group {
                writeln!(out, "  role-assignable      {}", o.is_assignable_to_role)?;
            }
            holders(engine, names, eligible, active, out)
        }
        Outcome::MemberAdded { relation, container_text, member_text, .. } => {
            writeln!(out, "Added {member_text} to {container_text} as {relation}")
        }
        Outcome::Members(rows) if rows.is_empty() => writeln!(out, "no members"),
        Outcome::Members(rows) => {
            let mut t = table(&["member", "kind", "id"]);
            for o in rows {
                t.add_row(vec![
                    o.user_principal_name.clone().unwrap_or(o.display_name.clone()),
                    o.kind.as_str().to_string(),
                    o.id.clone(),
                ]);
            }
            writeln!(out, "{}", finish(&t))
        }
        _ => Ok(()),
    }
}

/// The eligible and active schedules of a role or a principal, when it has any.
fn holders(
    engine: &mut Engine,
    names: &mut Names,
    eligible: &[crate::model::Schedule],
    active: &[crate::model::Schedule],
    out: &mut dyn Write,
) -> io::Result<()> {
    if !eligible.is_empty() {
        writeln!(out, "  eligible:\n{}", schedules_table(engine, names, eligible))?;
    }
    if !active.is_empty() {
        writeln!(out, "  active:\n{}", schedules_table(engine, names, active))?;
    }
    Ok(())
}
