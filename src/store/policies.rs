//! Rows of `policies` and `policy_rules`.

use rusqlite::{OptionalExtension, Row, params};

use super::Tx;
use super::cache::{Cached, joined_key, lower_case};
use crate::model::policy::{Policy, PolicyRule};
use crate::model::time::{from_millis, to_millis};

const POLICY_COLUMNS: &str =
    "id, scope_id, scope_type, role_definition_id, last_modified_at, last_modified_by";

fn policy_from_row(r: &Row<'_>) -> rusqlite::Result<Policy> {
    let modified: Option<i64> = r.get(4)?;
    Ok(Policy {
        id: r.get(0)?,
        scope_id: r.get(1)?,
        scope_type: r.get(2)?,
        role_definition_id: r.get(3)?,
        last_modified_at: modified.map(from_millis),
        last_modified_by: r.get(5)?,
        rules: std::rc::Rc::from([]),
    })
}

impl Tx<'_> {
    pub fn insert_policy(&self, surface: &str, p: &Policy) -> rusqlite::Result<()> {
        self.forget_cached(Cached::Policies);
        self.tx
            .cached(sql!(
                "INSERT INTO policies (surface, {POLICY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ))?
            .execute(params![
                surface,
                p.id,
                p.scope_id,
                p.scope_type,
                p.role_definition_id,
                p.last_modified_at.map(to_millis),
                p.last_modified_by,
            ])?;
        for (position, rule) in p.rules.iter().enumerate() {
            self.tx
                .cached(
                    "INSERT INTO policy_rules (policy_id, position, rule_id, body) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![p.id, position as i64, rule.id(), rule_json(rule)])?;
        }
        Ok(())
    }

    fn load_rules(&self, policy: &mut Policy) -> rusqlite::Result<()> {
        let id = &policy.id;
        policy.rules = self.remembered(
            |c| &mut c.rules,
            id,
            || {
                let mut stmt = self.tx.cached(
                    "SELECT rule_id, body FROM policy_rules WHERE policy_id = ?1 ORDER BY position",
                )?;
                let bodies: Vec<(String, String)> =
                    stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
                let mut parsed = Vec::with_capacity(bodies.len());
                for (rule_id, body) in bodies {
                    let rule: PolicyRule = serde_json::from_str(&body).map_err(|e| {
                        // Name the damaged row: "store error: invalid type" alone would leave a user guessing.
                        let why = format!("the stored rule '{rule_id}' of policy '{id}' is damaged: {e}");
                        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, why.into())
                    })?;
                    parsed.push(rule);
                }
                Ok(parsed.into())
            },
        )?;
        Ok(())
    }

    pub fn policy(&self, id: &str) -> rusqlite::Result<Option<Policy>> {
        let found = self
            .tx
            .cached(sql!("SELECT {POLICY_COLUMNS} FROM policies WHERE id = ?1"))?
            .query_row([id], policy_from_row)
            .optional()?;
        match found {
            Some(mut p) => {
                self.load_rules(&mut p)?;
                Ok(Some(p))
            }
            None => Ok(None),
        }
    }

    /// The policy governing a role at a scope, with its rules.
    pub fn policy_for(
        &self,
        surface: &str,
        scope_id: &str,
        role_id: &str,
    ) -> rusqlite::Result<Option<Policy>> {
        let role_id = lower_case(role_id);
        let key = joined_key(&[surface, scope_id, &role_id]);
        self.remembered(|c| &mut c.policies, &key, || {
            let mut found = self
                .tx
                .cached(sql!(
                    "SELECT {POLICY_COLUMNS} FROM policies WHERE surface = ?1 AND scope_id = ?2 AND role_definition_id = ?3"
                ))?
                .query_row([surface, scope_id, &*role_id], policy_from_row)
                .optional()?;
            if let Some(p) = &mut found {
                self.load_rules(p)?;
            }
            Ok(found)
        })
    }

    /// Every policy of a surface, with rules when `with_rules`.
    pub fn policies(&self, surface: &str, with_rules: bool) -> rusqlite::Result<Vec<Policy>> {
        let mut stmt = self
            .tx
            .cached(sql!("SELECT {POLICY_COLUMNS} FROM policies WHERE surface = ?1 ORDER BY rowid"))?;
        let mut all: Vec<Policy> = stmt.query_map([surface], policy_from_row)?.collect::<Result<_, _>>()?;
        if with_rules {
            for p in &mut all {
                self.load_rules(p)?;
            }
        }
        Ok(all)
    }

    /// Replaces one rule and stamps the policy as modified.
    pub fn update_rule(
        &self,
        policy_id: &str,
        rule: &PolicyRule,
        at: crate::model::Timestamp,
        by: &str,
    ) -> rusqlite::Result<()> {
        self.forget_cached(Cached::Policies);
        self.tx
            .cached("UPDATE policy_rules SET body = ?3 WHERE policy_id = ?1 AND rule_id = ?2")?
            .execute(params![policy_id, rule.id(), rule_json(rule)])?;
        self.tx
            .cached("UPDATE policies SET last_modified_at = ?2, last_modified_by = ?3 WHERE id = ?1")?
            .execute(params![policy_id, to_millis(at), by])?;
        Ok(())
    }
}

impl Tx<'_> {
    /// Removes a stored policy and its rules (an Azure pair then reads as its defaults again).
    pub fn delete_policy(&self, policy_id: &str) -> rusqlite::Result<()> {
        self.forget_cached(Cached::Policies);
        self.tx.cached("DELETE FROM policy_rules WHERE policy_id = ?1")?.execute([policy_id])?;
        self.tx.cached("DELETE FROM policies WHERE id = ?1")?.execute([policy_id])?;
        Ok(())
    }
}

fn rule_json(rule: &PolicyRule) -> String {
    serde_json::to_string(rule).expect("rules serialise")
}
