//! The closed vocabularies of requests and schedules (surface, kind, action, status, state,
//! member type, assignment type, expiration type; schema version 10) and the audit's result
//! (schema version 12) as the store keeps them: a
//! small number, its place in the vocabulary's table below, instead of the word. The commonest
//! value of each comes first: SQLite keeps 0 and 1 in no bytes at all, and any other code in one.
//! The tables only ever grow at their end, as the numbers are in every store.
//!
//! A statement names a value by its number, with the word beside it in a comment
//! (`state = 1 /* live */`), as do schema.sql's partial indexes; the views `instances` and
//! `role_assignments` show the words. `numbers_in_statements` pins every number written so.

use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, Value};

use crate::model::{
    Action, AssignmentType, ExpirationType, MemberType, RequestKind, ScheduleState, Status, Surface,
};

/// A closed vocabulary kept as numbers: `TABLE[code]` is the value of `code`.
pub(super) trait Coded: Copy + PartialEq + 'static {
    const TABLE: &'static [Self];
    /// What the vocabulary is, for errors.
    const WHAT: &'static str;
    fn word(self) -> &'static str;

    fn code(self) -> i64 {
        Self::TABLE.iter().position(|v| *v == self).expect("every value has a code") as i64
    }

    fn from_code(code: i64) -> Option<Self> {
        usize::try_from(code).ok().and_then(|i| Self::TABLE.get(i)).copied()
    }
}

macro_rules! coded {
    ($type:ty, $what:literal, [$($value:expr),+ $(,)?]) => {
        impl Coded for $type {
            const TABLE: &'static [Self] = &[$($value),+];
            const WHAT: &'static str = $what;
            fn word(self) -> &'static str {
                self.as_str()
            }
        }
    };
}

coded!(Surface, "surface", [Surface::Directory, Surface::Group, Surface::AzureResource]);
coded!(RequestKind, "kind", [RequestKind::Assignment, RequestKind::Eligibility]);
coded!(
    Action,
    "action",
    [
        Action::SelfActivate,
        Action::AdminAssign,
        Action::AdminUpdate,
        Action::AdminRemove,
        Action::SelfDeactivate,
        Action::AdminExtend,
        Action::AdminRenew,
        Action::SelfExtend,
        Action::SelfRenew,
    ]
);
coded!(
    Status,
    "status",
    [
        Status::Provisioned,
        Status::Granted,
        Status::PendingApproval,
        Status::PendingAdminDecision,
        Status::Revoked,
        Status::Canceled,
        Status::Denied,
        Status::Failed,
        Status::TimedOut,
        Status::PendingEvaluation,
    ]
);
coded!(
    ScheduleState,
    "state",
    [ScheduleState::Expired, ScheduleState::Live, ScheduleState::Removed, ScheduleState::Replaced]
);
coded!(MemberType, "memberType", [MemberType::Direct, MemberType::Group, MemberType::Inherited]);
coded!(AssignmentType, "assignmentType", [AssignmentType::Activated, AssignmentType::Assigned]);
coded!(
    ExpirationType,
    "expiration type",
    [
        ExpirationType::AfterDuration,
        ExpirationType::AfterDateTime,
        ExpirationType::NoExpiration,
        ExpirationType::NotSpecified,
    ]
);

/// An audit row's result. `AuditRecord` carries it as its word; the store keeps its code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum AuditResult {
    Success,
    Failure,
}

impl AuditResult {
    fn as_str(self) -> &'static str {
        match self {
            AuditResult::Success => "success",
            AuditResult::Failure => "failure",
        }
    }

    /// The result `word` names; an error naming it when it is neither.
    pub(super) fn parse(word: &str) -> rusqlite::Result<Self> {
        Self::TABLE.iter().copied().find(|r| r.word() == word).ok_or_else(|| {
            rusqlite::Error::ToSqlConversionFailure(
                format!("an audit result is success or failure, not {word:?}").into(),
            )
        })
    }
}

coded!(AuditResult, "audit result", [AuditResult::Success, AuditResult::Failure]);

/// A value bound as its code.
#[derive(Debug, Clone, Copy)]
pub(super) struct C<T>(pub(super) T);

impl<T: Coded> ToSql for C<T> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Owned(Value::Integer(self.0.code())))
    }
}

/// The value whose code is in column `i`.
pub(super) fn coded<T: Coded>(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<T> {
    let code: i64 = r.get(i)?;
    T::from_code(code).ok_or_else(|| unknown::<T>(i, code))
}

/// The value whose code is in column `i`, if there is one.
pub(super) fn opt_coded<T: Coded>(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<T>> {
    r.get::<_, Option<i64>>(i)?
        .map(|code| T::from_code(code).ok_or_else(|| unknown::<T>(i, code)))
        .transpose()
}

fn unknown<T: Coded>(i: usize, code: i64) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Integer,
        format!("unknown {} {code} in the store", T::WHAT).into(),
    )
}

/// `CASE column WHEN 'word' THEN code ... END`: a column of words as codes (the upgrade from
/// schema 9); a word the vocabulary lacks becomes null, which the column refuses.
pub(super) fn words_to_codes<T: Coded>(column: &str) -> String {
    let arms: Vec<String> =
        T::TABLE.iter().map(|v| format!("WHEN '{}' THEN {}", v.word(), v.code())).collect();
    format!("CASE {column} {} END", arms.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every store holds these numbers: a table may only grow at its end, and a change is a
    /// change of the storage format, which needs an upgrade step (schema.rs). The vocabularies
    /// the views spell are pinned by `the_views_spell_the_words` (against schema.sql's text);
    /// actions have no view, so their order is pinned here.
    #[test]
    fn the_action_codes_never_move() {
        let words: Vec<&str> = Action::TABLE.iter().map(|v| v.word()).collect();
        assert_eq!(
            words,
            [
                "selfActivate",
                "adminAssign",
                "adminUpdate",
                "adminRemove",
                "selfDeactivate",
                "adminExtend",
                "adminRenew",
                "selfExtend",
                "selfRenew"
            ]
        );
    }

    /// `CASE column WHEN code THEN 'word' ... END`: a column of codes as words (the views).
    fn codes_to_words<T: Coded>(column: &str) -> String {
        let arms: Vec<String> =
            T::TABLE.iter().map(|v| format!("WHEN {} THEN '{}'", v.code(), v.word())).collect();
        format!("CASE {column} {} END", arms.join(" "))
    }

    fn covers<T: Coded + std::fmt::Debug>(all: &[T]) {
        assert_eq!(T::TABLE.len(), all.len(), "{}", T::WHAT);
        for v in all {
            assert_eq!(T::from_code(v.code()), Some(*v));
        }
        assert_eq!(T::from_code(T::TABLE.len() as i64), None);
        assert_eq!(T::from_code(-1), None);
    }

    #[test]
    fn every_value_has_one_code_and_back() {
        covers(&[Surface::Directory, Surface::AzureResource, Surface::Group]);
        covers(&[RequestKind::Eligibility, RequestKind::Assignment]);
        covers(&Action::ALL);
        covers(&Status::ALL);
        covers(&[
            ScheduleState::Live,
            ScheduleState::Expired,
            ScheduleState::Removed,
            ScheduleState::Replaced,
        ]);
        covers(&[MemberType::Direct, MemberType::Group, MemberType::Inherited]);
        covers(&[AssignmentType::Assigned, AssignmentType::Activated]);
        covers(&[
            ExpirationType::NotSpecified,
            ExpirationType::NoExpiration,
            ExpirationType::AfterDateTime,
            ExpirationType::AfterDuration,
        ]);
        covers(&[AuditResult::Failure, AuditResult::Success]);
    }

    /// The numbers statements and schema.sql write as literals, each beside its word.
    #[test]
    fn numbers_in_statements() {
        assert_eq!(Surface::Directory.code(), 0);
        assert_eq!(Surface::Group.code(), 1);
        assert_eq!(RequestKind::Assignment.code(), 0);
        assert_eq!(RequestKind::Eligibility.code(), 1);
        assert_eq!(Action::SelfActivate.code(), 0);
        assert_eq!(Status::Provisioned.code(), 0);
        assert_eq!(Status::Granted.code(), 1);
        assert_eq!(Status::PendingApproval.code(), 2);
        assert_eq!(Status::PendingAdminDecision.code(), 3);
        assert_eq!(Status::Revoked.code(), 4);
        assert_eq!(ScheduleState::Expired.code(), 0);
        assert_eq!(ScheduleState::Live.code(), 1);
        assert_eq!(AssignmentType::Assigned.code(), 1);
        assert_eq!(ExpirationType::NoExpiration.code(), 2);
        assert_eq!(AuditResult::Success.code(), 0);
        assert_eq!(AuditResult::Failure.code(), 1);
    }

    /// The views of schema.sql spell every code back as its word.
    #[test]
    fn the_views_spell_the_words() {
        let schema = include_str!("../../schema.sql");
        let squeeze = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let schema = squeeze(schema);
        for (column, case) in [
            ("surface", codes_to_words::<Surface>("surface")),
            ("kind", codes_to_words::<RequestKind>("kind")),
            ("member_type", codes_to_words::<MemberType>("member_type")),
            ("assignment_type", codes_to_words::<AssignmentType>("assignment_type")),
            ("status", codes_to_words::<Status>("status")),
            ("state", codes_to_words::<ScheduleState>("state")),
            ("expiration_type", codes_to_words::<ExpirationType>("expiration_type")),
        ] {
            assert!(schema.contains(&squeeze(&case)), "schema.sql spells {column} as {case}");
        }
    }
}
