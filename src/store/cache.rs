//! What the store remembers between reads: policies and their parsed rules, directory objects,
//! role definitions, the hooks, live eligibility and assignment schedules, direct group
//! memberships, the directory roles a principal holds, a role's holders, the targets with no
//! request waiting for a decision, the dictionaries' words and the `meta` values. A request reads its principal, its role and its role's
//! seventeen rules half a dozen times (resolving, checking, auditing, addressing mail), and a
//! scenario reads the same few thousand rows for hours; these rows change rarely.
//!
//! An entry is only ever a row as committed, or as the open transaction sees it. Three things drop
//! entries:
//! - this store writing those tables (the writing `Tx` method calls `forget`), except where the
//!   write is carried into the entry instead (the live assignments: `schedules.rs`);
//! - another connection committing, which moves SQLite's `PRAGMA data_version` (checked once per
//!   transaction, before the first cached read);
//! - a rollback after this store wrote those tables: entries read since the write may describe
//!   rows that never were ([`Guard`]).

use std::cell::{Cell, RefCell};
/// The caches' maps: keyed by ids and words pimlab itself reads from its store, hashed with
/// foldhash, several times faster than the standard library's SipHash for such keys.
pub(crate) type HashMap<K, V> = foldhash::HashMap<K, V>;
use std::rc::Rc;

use crate::model::policy::{Policy, PolicyRule};
use crate::model::{DirectoryObject, RequestKind, RoleDefinition, Schedule};

/// `id` in lower case, borrowed when it already is (as every id pimlab makes is): the caches' keys.
pub(crate) fn lower_case(id: &str) -> std::borrow::Cow<'_, str> {
    if id.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(id.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(id)
    }
}

/// A key of several ids, NUL-separated, made without the formatting machinery: the caches are
/// asked several times a request, and `format!` cost each key about a thousand instructions.
pub(crate) fn joined_key(parts: &[&str]) -> String {
    let mut key = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            key.push('\0');
        }
        key.push_str(part);
    }
    key
}

/// The rows behind one kind of entry, as a write names what it changes.
#[derive(Clone, Copy)]
pub(crate) enum Cached {
    /// `directory_objects`.
    Objects,
    /// `role_definitions`.
    Roles,
    /// `policies` and `policy_rules`.
    Policies,
    /// `hooks`.
    Hooks,
    /// Eligibility schedules (`schedules` rows of kind 1).
    Eligibilities,
    /// `memberships`.
    Memberships,
}

/// Entries dropped by a key a write names (as the cache is keyed: a lower-case id, or the ids as
/// asked), or, given `None`, all of them: the caches whose entries a write changes one key at a
/// time, so that one activation does not empty them for every principal.
#[derive(Clone, Copy)]
pub(crate) enum Keyed<'a> {
    /// A target's live eligibilities (principal and role as asked, NUL-separated): a column of
    /// one of them that names no other target is written (an expiry notice marked sent).
    Eligibilities(Option<&'a str>),
    /// A target's live assignments (principal and role as asked, NUL-separated): a write of its
    /// schedules that `schedules.rs` does not carry into the entry.
    Assignments(Option<&'a str>),
    /// A principal's directory roles: a directory schedule of the principal is written.
    DirectoryRoles(Option<&'a str>),
    /// A role's holders: an assignment of the role is written.
    RoleHolders(Option<&'a str>),
    /// A target (principal and role, NUL-separated) known to have no waiting request: a waiting
    /// request for it is written.
    NoPending(Option<&'a str>),
}

#[derive(Default)]
pub(crate) struct Caches {
    /// `PRAGMA data_version` when the entries were read.
    data_version: Option<i64>,
    /// The open batch has checked `data_version` already. A batch holds the write lock from its
    /// `BEGIN IMMEDIATE` on, so no other connection can commit until it ends: once is enough.
    checked_in_batch: bool,
    /// The open transaction wrote cached tables: a rollback must drop what was read since.
    written: bool,
    /// How many times cached tables were written (or words added), ever: a savepoint rolled back
    /// drops entries only if this moved while it was open.
    changes: u64,
    /// Parsed rules by policy id.
    pub(crate) rules: HashMap<String, Rc<[PolicyRule]>>,
    /// Directory objects by lower-case id (`None`: known not to exist).
    pub(crate) objects: HashMap<String, Option<Rc<DirectoryObject>>>,
    /// Objects by the name `objects_named` was given, as it is (a user principal name matches
    /// exactly, a display name without regard to case).
    pub(crate) object_names: HashMap<String, Vec<DirectoryObject>>,
    /// Role definitions by lower-case id.
    pub(crate) roles: HashMap<String, Option<RoleDefinition>>,
    /// Role definitions by lower-case display name.
    pub(crate) role_names: HashMap<String, Option<RoleDefinition>>,
    /// Policies with their rules by surface, scope and lower-case role id (NUL-separated).
    pub(crate) policies: HashMap<String, Option<Policy>>,
    /// Every hook, in the order they run.
    pub(crate) hooks: Option<Rc<Vec<crate::model::hook::Hook>>>,
    /// Live eligibility schedules by principal and role id (NUL-separated, as asked): every
    /// activation reads the eligibility it is made under, and eligibilities change rarely
    /// beside the activations and expiries of assignments, which leave these entries be.
    pub(crate) eligibilities: HashMap<String, Rc<[Schedule]>>,
    /// Live assignment schedules by principal and role id (NUL-separated, as asked), each as a
    /// read of its row gives it: every request reads its target's (is it active already?), and
    /// every change of a group assignment asks whether the principal holds the group before or
    /// after. The writes that make and end them, an activation and its expiry, are carried into
    /// the entry rather than dropping it (`schedules.rs`): the entry is read again at once.
    pub(crate) assignments: HashMap<String, Rc<[Schedule]>>,
    /// Whether a principal is a direct (not PIM) member or owner of a group, by group, relation
    /// and principal as asked (NUL-separated). Only adding a membership changes one.
    pub(crate) memberships: HashMap<String, bool>,
    /// The directory roles a principal holds through live schedules, by lower-case principal
    /// id (`live_directory_roles_of`): what a group's members come to hold, which every request
    /// for a group's membership reads. A write of a directory schedule drops its principal's.
    pub(crate) directory_roles: HashMap<String, Rc<[(RequestKind, String)]>>,
    /// The principals holding a role through live assignments (`active_principals_of_role`), by
    /// lower-case role id, then by the role as asked and the scope (NUL-separated): every mail to
    /// administrators asks for two roles, and every administrator's write for one. A write of an
    /// assignment of the role drops its entries.
    pub(crate) role_holders: HashMap<String, HashMap<String, Rc<[String]>>>,
    /// The targets known to have no request waiting for a decision (`pending_requests_for`
    /// found none), by lower-case principal and role, then by the question as asked (kind,
    /// principal, role, scope). Every request asks before it is made, and a target's requests
    /// rarely wait; a request written as pending (`PendingApproval`, `PendingAdminDecision`) drops
    /// its target's entries, and nothing else can make one appear.
    pub(crate) no_pending: HashMap<String, std::collections::HashSet<String, foldhash::fast::RandomState>>,
    /// The words of the two dictionaries (`texts.rs`), by `Dictionary` number. No write changes
    /// an entry, so only another connection's commit or a rollback drops them.
    pub(crate) words: [Words; 2],
    /// The `meta` table's values by key (`None`: known not to be there), written through by
    /// this store's own writes. Every operation reads the tenant's facts (four keys) and every
    /// request takes an id from the `next_id` counter: four statements a request, before.
    pub(crate) meta: HashMap<String, Option<Rc<str>>>,
    /// How many times `meta` was written, ever: a savepoint rolled back drops the meta entries
    /// if this moved while it was open. Kept apart from `changes`, as nearly every write takes
    /// an id: a refused request that took one must not cost every other cache its entries.
    meta_changes: u64,
    /// The open transaction wrote `meta`: a rollback drops the meta entries.
    meta_written: bool,
    /// Counters taken inside a batch of savepoints and not yet written (`bump_counter`): their
    /// entries in `meta` are ahead of the table until the batch commits, which writes them first
    /// (`Store::write_pending_meta`). A request takes an id, and writing the counter was a
    /// statement, and a page copied into the savepoint's journal, every request.
    pub(crate) meta_pending: Vec<&'static str>,
}

/// One dictionary's words read or added so far, both ways.
#[derive(Default)]
pub(crate) struct Words {
    pub(crate) by_text: HashMap<Rc<str>, i64>,
    pub(crate) by_id: HashMap<i64, Rc<str>>,
    /// The audit trail's targets by object id: each target's type, display name and the number
    /// of its JSON, so that a row naming a target met before is written without serialising it
    /// again (a request writes four or five rows, each naming two or three targets). Every
    /// number here is also in `by_text`, and goes when it goes.
    pub(crate) targets: HashMap<Box<str>, Vec<TargetWord>>,
}

/// A target's type and display name, and the number of its JSON in the audit dictionary.
pub(crate) struct TargetWord {
    pub(crate) kind: Box<str>,
    pub(crate) display_name: Option<Box<str>>,
    pub(crate) id: i64,
}

impl Words {
    /// At most this many words are remembered: a long run meets new words for ever (a trace's
    /// values, the audit's reasons), and memory stays flat.
    const MAX: usize = 50_000;

    pub(crate) fn remember(&mut self, id: i64, text: Rc<str>) {
        if self.by_id.len() >= Self::MAX {
            self.by_text.clear();
            self.by_id.clear();
            self.targets.clear();
        }
        self.by_text.insert(text.clone(), id);
        self.by_id.insert(id, text);
    }
}

impl Caches {
    fn clear_rows(&mut self) {
        self.rules.clear();
        self.objects.clear();
        self.object_names.clear();
        self.roles.clear();
        self.role_names.clear();
        self.policies.clear();
        self.hooks = None;
        self.eligibilities.clear();
        self.assignments.clear();
        self.memberships.clear();
        self.directory_roles.clear();
        self.role_holders.clear();
        self.no_pending.clear();
        self.meta.clear();
        // A pending counter's value lives in `meta`: it goes with it (a rollback puts back what
        // the batch had taken before, `meta_rolled_back_to`).
        self.meta_pending.clear();
    }

    fn clear(&mut self) {
        self.clear_rows();
        self.words = Default::default();
    }

    /// The store is about to change the rows behind `which` in the open transaction: only those
    /// entries go (adding a user leaves the policies' parsed rules; the dictionaries' words stay,
    /// as no write changes one).
    pub(crate) fn forget(&mut self, which: Cached) {
        match which {
            Cached::Objects => {
                self.objects.clear();
                self.object_names.clear();
            }
            Cached::Roles => {
                self.roles.clear();
                self.role_names.clear();
            }
            Cached::Policies => {
                self.rules.clear();
                self.policies.clear();
            }
            Cached::Hooks => self.hooks = None,
            Cached::Eligibilities => self.eligibilities.clear(),
            Cached::Memberships => self.memberships.clear(),
        }
        self.wrote();
    }

    /// The open transaction wrote a live assignment's row in a way `schedules.rs` carries into
    /// the entries (`change` makes the new entry from the old) rather than dropping them.
    pub(crate) fn carry_assignment(
        &mut self,
        target: &str,
        change: impl FnOnce(&[Schedule]) -> Rc<[Schedule]>,
    ) {
        if let Some(entry) = self.assignments.get_mut(target) {
            *entry = change(entry);
        }
        self.wrote();
    }

    /// The store is about to write rows behind the entries `which` names by key: that key's
    /// entries go, or all of them.
    pub(crate) fn forget_keyed(&mut self, which: Keyed<'_>) {
        fn drop_key<V>(map: &mut HashMap<String, V>, key: Option<&str>) {
            match key {
                Some(k) => {
                    map.remove(k);
                }
                None => map.clear(),
            }
        }
        match which {
            Keyed::Eligibilities(target) => drop_key(&mut self.eligibilities, target),
            Keyed::Assignments(target) => drop_key(&mut self.assignments, target),
            Keyed::DirectoryRoles(principal) => drop_key(&mut self.directory_roles, principal),
            Keyed::RoleHolders(role) => drop_key(&mut self.role_holders, role),
            Keyed::NoPending(target) => drop_key(&mut self.no_pending, target),
        }
        self.wrote();
    }

    /// The open transaction wrote `value` under `key` in `meta`.
    pub(crate) fn wrote_meta(&mut self, key: &str, value: &str) {
        self.meta.insert(key.to_string(), Some(Rc::from(value)));
        self.meta_pending.retain(|pending| *pending != key);
        self.meta_written = true;
        self.meta_changes += 1;
    }

    /// The open batch took counter `key` up to `value`, to be written when it commits.
    pub(crate) fn bumped_meta(&mut self, key: &'static str, value: &str) {
        self.meta.insert(key.to_string(), Some(Rc::from(value)));
        if !self.meta_pending.contains(&key) {
            self.meta_pending.push(key);
        }
        self.meta_written = true;
        self.meta_changes += 1;
    }

    /// The counters not yet written, with their values.
    pub(crate) fn pending_meta(&self) -> Vec<(&'static str, Rc<str>)> {
        let value = |key: &str| self.meta.get(key).cloned().flatten();
        self.meta_pending.iter().filter_map(|&key| Some((key, value(key)?))).collect()
    }

    /// A savepoint that took counters was rolled back: the meta entries go, but the counters
    /// the batch took before it (`pending`, as they were when it began) are put back, as the
    /// table does not have them yet.
    fn meta_rolled_back_to(&mut self, pending: &[(&'static str, Rc<str>)]) {
        self.meta.clear();
        self.meta_pending.clear();
        for (key, value) in pending {
            self.meta.insert((*key).to_string(), Some(value.clone()));
            self.meta_pending.push(key);
        }
    }

    /// The open transaction added a dictionary word: a rollback takes it back.
    pub(crate) fn added_word(&mut self) {
        self.wrote();
    }

    /// The store is about to empty every table, the dictionaries' too.
    pub(crate) fn forget_everything(&mut self) {
        self.clear();
        self.wrote();
    }

    fn wrote(&mut self) {
        self.written = true;
        self.changes += 1;
    }

    /// Drops everything unless `version` (this transaction's `PRAGMA data_version`) is the one the
    /// entries were read at.
    pub(crate) fn validate(&mut self, version: i64) {
        if self.data_version != Some(version) {
            self.clear();
            self.data_version = Some(version);
        }
    }

    /// Whether a part of a batch must check `data_version`: only the batch's first does.
    pub(crate) fn check_in_batch(&mut self) -> bool {
        !std::mem::replace(&mut self.checked_in_batch, true)
    }

    /// The outermost transaction ended: committed, its reads are the store's rows; rolled back
    /// after a write, they may not be.
    pub(crate) fn transaction_ended(&mut self, committed: bool) {
        if self.written && !committed {
            self.clear();
        }
        // Committed, the batch wrote them first; rolled back, they were never taken.
        debug_assert!(!committed || self.meta_pending.is_empty(), "counters left unwritten");
        if self.meta_written && !committed {
            self.meta.clear();
        }
        self.meta_pending.clear();
        self.written = false;
        self.meta_written = false;
        self.checked_in_batch = false;
    }
}

/// Rides along with each `Tx`: when the `Tx` is dropped without its `commit`, the work in it is
/// rolled back, and if cached tables were written, entries read since are dropped. `outermost`
/// says whether this `Tx` is the transaction (its end settles `written`) or a part of a batch;
/// `undone_on_drop` whether that part is a savepoint, rolled back when dropped. A part of a batch
/// that succeeds or fails whole (`Batch::Whole`) is undone only with the batch, which settles
/// the caches when it ends: dropping it keeps them, as they still describe what the open
/// transaction sees (clearing them there made every lookup inside an import start from an empty
/// cache, and clearing a cache that had grown to every object read made a long batch quadratic).
/// A savepoint rolled back drops entries only if cached tables were written while it was open:
/// a read dropped after an earlier write of the batch undoes nothing (dropping them there made a
/// scenario re-read and re-parse every policy and word of each request).
pub(crate) struct Guard<'a> {
    pub(crate) caches: &'a RefCell<Caches>,
    /// Where the caches stood when this `Tx` began, for a savepoint rolled back.
    mark: Mark,
    pub(crate) outermost: bool,
    pub(crate) undone_on_drop: bool,
    pub(crate) committed: bool,
    /// The caches were validated against `data_version` in this transaction.
    pub(crate) validated: Cell<bool>,
}

impl<'a> Guard<'a> {
    pub(crate) fn new(caches: &'a RefCell<Caches>, outermost: bool, undone_on_drop: bool) -> Self {
        let mark = Mark::taken(&caches.borrow(), undone_on_drop);
        Guard { caches, mark, outermost, undone_on_drop, committed: false, validated: Cell::new(false) }
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let mut caches = self.caches.borrow_mut();
        if self.outermost {
            caches.transaction_ended(self.committed);
        } else if self.undone_on_drop && !self.committed {
            self.mark.rolled_back(&mut caches);
        }
    }
}

/// Where the caches stood when a savepoint began (a `Tx` inside a batch, or an engine batch
/// inside a rolling one), so that rolling it back drops what it may have changed, and only then.
pub(crate) struct Mark {
    /// `Caches::changes` then.
    changes: u64,
    /// `Caches::meta_changes` then.
    meta_changes: u64,
    /// The counters the batch had taken and not written then.
    meta_pending: Vec<(&'static str, Rc<str>)>,
}

impl Mark {
    /// Where `caches` stand now; `savepoint` false when nothing will roll back to it (the
    /// pending counters are then not worth copying).
    pub(crate) fn taken(caches: &Caches, savepoint: bool) -> Mark {
        let meta_pending = if savepoint { caches.pending_meta() } else { Vec::new() };
        Mark { changes: caches.changes, meta_changes: caches.meta_changes, meta_pending }
    }

    /// The savepoint begun at this mark was rolled back.
    pub(crate) fn rolled_back(&self, caches: &mut Caches) {
        if caches.changes != self.changes {
            caches.clear();
            caches.meta_rolled_back_to(&self.meta_pending);
        } else if caches.meta_changes != self.meta_changes {
            caches.meta_rolled_back_to(&self.meta_pending);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Store;
    use crate::store::tests::user;

    #[test]
    fn an_object_added_in_a_rolled_back_savepoint_of_a_batch_is_not_remembered() {
        let mut store = Store::open_in_memory().unwrap();
        let id = "00000000-0000-0000-0000-00000000000c";
        store.begin_batch(crate::store::Batch::Savepoints).unwrap();
        {
            let tx = store.write().unwrap();
            tx.insert_object(&user(id)).unwrap();
            assert!(tx.object(id).unwrap().is_some());
            // Dropped without commit: this savepoint is rolled back, the batch goes on.
        }
        assert_eq!(store.read().unwrap().object(id).unwrap(), None);
        store.end_batch(true).unwrap();
        assert_eq!(store.read().unwrap().object(id).unwrap(), None);
    }

    #[test]
    fn an_object_read_in_a_rolled_back_batch_is_not_remembered() {
        let mut store = Store::open_in_memory().unwrap();
        let id = "00000000-0000-0000-0000-00000000000d";
        store.begin_batch(crate::store::Batch::Savepoints).unwrap();
        let tx = store.write().unwrap();
        tx.insert_object(&user(id)).unwrap();
        tx.commit().unwrap();
        // Committed inside the batch, and read (so remembered) ...
        assert!(store.read().unwrap().object(id).unwrap().is_some());
        // ... but the batch as a whole is discarded.
        store.end_batch(false).unwrap();
        assert_eq!(store.read().unwrap().object(id).unwrap(), None);
    }

    /// A user of its own name (`user`'s all share one).
    fn someone(id: &str) -> crate::model::DirectoryObject {
        crate::model::DirectoryObject {
            user_principal_name: Some(format!("{id}@contoso.example")),
            ..user(id)
        }
    }

    fn remembers_object(store: &Store, id: &str) -> bool {
        store.caches.borrow().objects.contains_key(id)
    }

    fn a_policy(id: &str) -> crate::model::policy::Policy {
        crate::model::policy::Policy {
            id: id.to_string(),
            scope_id: "/".to_string(),
            scope_type: "Directory".to_string(),
            role_definition_id: "r1".to_string(),
            last_modified_at: None,
            last_modified_by: None,
            rules: crate::model::policy::default_directory_rules().into(),
        }
    }

    #[test]
    fn a_read_dropped_after_a_write_in_a_batch_keeps_what_the_caches_remember() {
        let mut store = Store::open_in_memory().unwrap();
        let (a, b) = ("00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000b2");
        store.begin_batch(crate::store::Batch::Savepoints).unwrap();
        let tx = store.write().unwrap();
        tx.insert_object(&someone(a)).unwrap();
        tx.insert_object(&someone(b)).unwrap();
        tx.commit().unwrap();
        // Read, remembered, and the read dropped (rolled back) with nothing written in it.
        assert!(store.read().unwrap().object(a).unwrap().is_some());
        assert!(remembers_object(&store, a));
        assert!(store.read().unwrap().object(b).unwrap().is_some());
        assert!(remembers_object(&store, a), "a read undoes nothing, so it forgets nothing");
        // A savepoint that wrote and is rolled back still drops what was read.
        {
            let tx = store.write().unwrap();
            tx.insert_object(&someone("00000000-0000-0000-0000-0000000000c3")).unwrap();
            assert!(tx.object(a).unwrap().is_some());
        }
        assert!(!remembers_object(&store, a));
        store.end_batch(true).unwrap();
    }

    #[test]
    fn adding_a_user_keeps_the_parsed_policy_rules() {
        let mut store = Store::open_in_memory().unwrap();
        let tx = store.write().unwrap();
        tx.insert_policy("entra", &a_policy("p1")).unwrap();
        tx.commit().unwrap();
        let tx = store.write().unwrap();
        let before = tx.policy_for("entra", "/", "r1").unwrap().expect("the policy");
        tx.insert_object(&someone("00000000-0000-0000-0000-0000000000d4")).unwrap();
        let after = tx.policy_for("entra", "/", "r1").unwrap().expect("the policy");
        assert!(std::rc::Rc::ptr_eq(&before.rules, &after.rules), "the rules were parsed again");
        // Changing a policy does forget them.
        tx.update_rule("p1", &before.rules[0], crate::model::time::from_millis(0), "me").unwrap();
        let changed = tx.policy_for("entra", "/", "r1").unwrap().expect("the policy");
        assert!(!std::rc::Rc::ptr_eq(&before.rules, &changed.rules));
        tx.commit().unwrap();
    }

    #[test]
    fn an_id_taken_in_a_rolled_back_savepoint_is_taken_again_and_the_other_caches_stay() {
        let mut store = Store::open_in_memory().unwrap();
        let a = "00000000-0000-0000-0000-0000000000e5";
        store.begin_batch(crate::store::Batch::Savepoints).unwrap();
        let tx = store.write().unwrap();
        tx.insert_object(&someone(a)).unwrap();
        assert_eq!(tx.bump_counter("next_id").unwrap(), 0);
        tx.commit().unwrap();
        assert!(store.read().unwrap().object(a).unwrap().is_some());
        {
            // A refused request that took an id: rolled back.
            let tx = store.write().unwrap();
            assert_eq!(tx.bump_counter("next_id").unwrap(), 1);
        }
        assert!(remembers_object(&store, a), "taking an id is no reason to forget the directory");
        let tx = store.write().unwrap();
        assert_eq!(tx.bump_counter("next_id").unwrap(), 1, "the rolled-back id is taken again");
        tx.commit().unwrap();
        store.end_batch(true).unwrap();
        assert_eq!(store.read().unwrap().meta("next_id").unwrap().as_deref(), Some("2"));
    }

    fn counter_in_table(store: &Store) -> Option<String> {
        store.conn.query_row("SELECT value FROM meta WHERE key = 'next_id'", [], |r| r.get(0)).ok()
    }

    #[test]
    fn ids_taken_in_a_batch_are_written_when_it_commits_and_given_back_by_what_rolls_back() {
        let mut store = Store::open_in_memory().unwrap();
        store.begin_batch(crate::store::Batch::Savepoints).unwrap();
        for expected in 0..3 {
            let tx = store.write().unwrap();
            assert_eq!(tx.bump_counter("next_id").unwrap(), expected);
            tx.commit().unwrap();
        }
        assert_eq!(counter_in_table(&store), None, "not written yet: the batch is open");
        {
            // Refused after taking two ids: both go back, the three before it stay.
            let tx = store.write().unwrap();
            assert_eq!(tx.bump_counter("next_id").unwrap(), 3);
            assert_eq!(tx.bump_counter("next_id").unwrap(), 4);
        }
        assert_eq!(store.read().unwrap().meta("next_id").unwrap().as_deref(), Some("3"));
        store.end_batch(true).unwrap();
        assert_eq!(counter_in_table(&store).as_deref(), Some("3"), "written with the commit");
        // A batch discarded whole takes nothing.
        store.begin_batch(crate::store::Batch::Savepoints).unwrap();
        let tx = store.write().unwrap();
        assert_eq!(tx.bump_counter("next_id").unwrap(), 3);
        tx.commit().unwrap();
        store.end_batch(false).unwrap();
        assert_eq!(store.read().unwrap().meta("next_id").unwrap().as_deref(), Some("3"));
        assert_eq!(counter_in_table(&store).as_deref(), Some("3"));
    }

    #[test]
    fn a_batch_whose_ids_cannot_be_written_is_rolled_back_whole() {
        let mut store = Store::open_in_memory().unwrap();
        let a = "00000000-0000-0000-0000-0000000000e6";
        store.begin_batch(crate::store::Batch::Savepoints).unwrap();
        let tx = store.write().unwrap();
        tx.insert_object(&someone(a)).unwrap();
        assert_eq!(tx.bump_counter("next_id").unwrap(), 0);
        tx.commit().unwrap();
        // The counter's write, the batch's last, is refused (a trigger stands in for a full disk).
        store
            .conn
            .execute_batch("CREATE TEMP TRIGGER refuse BEFORE INSERT ON main.meta BEGIN SELECT RAISE(ABORT, 'refused'); END")
            .unwrap();
        assert!(store.end_batch(true).is_err());
        assert!(store.conn.is_autocommit(), "no transaction is left open");
        assert_eq!(counter_in_table(&store), None);
        assert!(store.read().unwrap().object(a).unwrap().is_none(), "the batch is undone whole");
        assert_eq!(store.read().unwrap().meta("next_id").unwrap(), None, "and its ids given back");
        // The next batch starts afresh and takes the same id.
        store.begin_batch(crate::store::Batch::Savepoints).unwrap();
        let tx = store.write().unwrap();
        assert_eq!(tx.bump_counter("next_id").unwrap(), 0);
        tx.commit().unwrap();
        store.end_batch(true).unwrap();
        assert_eq!(counter_in_table(&store).as_deref(), Some("1"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]

        /// The generator for lost or repeated ids: batches of savepoints, each taking some ids
        /// and kept or rolled back, and each batch committed or discarded. Every id taken is the
        /// next one a model of the rules gives, and what the table holds after each batch is the
        /// model's count of kept ids.
        #[test]
        fn ids_are_taken_once_whatever_is_rolled_back(
            batches in proptest::collection::vec(
                (proptest::collection::vec((0..3u64, proptest::bool::ANY), 0..6), proptest::bool::ANY),
                1..5,
            )
        ) {
            let mut store = Store::open_in_memory().unwrap();
            let mut kept = 0u64;
            for (parts, commit) in batches {
                store.begin_batch(crate::store::Batch::Savepoints).unwrap();
                let mut next = kept;
                for (ids, keep) in parts {
                    let tx = store.write().unwrap();
                    for i in 0..ids {
                        proptest::prop_assert_eq!(tx.bump_counter("next_id").unwrap(), next + i);
                    }
                    if keep {
                        tx.commit().unwrap();
                        next += ids;
                    }
                }
                store.end_batch(commit).unwrap();
                if commit {
                    kept = next;
                }
                let expected = (kept > 0).then(|| kept.to_string());
                proptest::prop_assert_eq!(counter_in_table(&store), expected.clone());
                proptest::prop_assert_eq!(store.read().unwrap().meta("next_id").unwrap(), expected);
            }
        }
    }

    #[test]
    fn a_meta_value_written_in_a_rolled_back_transaction_is_not_remembered() {
        let mut store = Store::open_in_memory().unwrap();
        let tx = store.write().unwrap();
        tx.set_meta("clock", "1").unwrap();
        tx.commit().unwrap();
        {
            let tx = store.write().unwrap();
            tx.set_meta("clock", "2").unwrap();
            assert_eq!(tx.meta("clock").unwrap().as_deref(), Some("2"), "a write is read back at once");
        }
        assert_eq!(store.read().unwrap().meta("clock").unwrap().as_deref(), Some("1"));
        assert_eq!(store.read().unwrap().tenant_facts().unwrap().1.as_deref(), Some("1"));
    }

    #[test]
    fn a_meta_value_another_connection_commits_is_read_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.db");
        let mut store = Store::open(&path).unwrap();
        let tx = store.write().unwrap();
        tx.set_meta("clock", "1").unwrap();
        tx.commit().unwrap();
        assert_eq!(store.read().unwrap().meta("clock").unwrap().as_deref(), Some("1"));
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute("UPDATE meta SET value = '7' WHERE key = 'clock'", []).unwrap();
        assert_eq!(store.read().unwrap().meta("clock").unwrap().as_deref(), Some("7"));
        assert_eq!(store.write().unwrap().bump_counter("clock").unwrap(), 7);
    }
}
