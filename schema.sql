-- pimlab store schema. The version lives in PRAGMA user_version (set by the code, see
-- src/store/schema.rs). Times are INTEGER milliseconds since the Unix epoch, UTC: sortable and
-- indexable; the wire format is produced by the api layer.
--
-- What can be derived is derived when read (schema version 10): a mail's subject and body are
-- rendered from its inputs, and a text that recurs from row to row (a name, an address, a
-- decision trace's checks and values, the audit's words) is kept once in a dictionary and named
-- by its number. Every index says which queries need it; no other index is kept, since each
-- costs its bytes in every row it covers.
--
-- A time that nearly always equals, or lies close to, another of its row (schema version 12) is
-- kept as the milliseconds after that one: SQLite stores 0 in no bytes and a working day's
-- offset in four, where a time since the epoch takes six.

-- The dictionaries (schema version 10): `texts` for the outbox and the decision traces,
-- `audit_texts` for the audit trail alone (a refused request's audit row, which commits when the
-- rest is rolled back, adds words to it and to nothing else). An entry never changes while the
-- store lives. Lists of numbers are packed into a BLOB as unsigned LEB128 varints
-- (src/store/texts.rs).
CREATE TABLE texts (
    id   INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);
CREATE TABLE audit_texts (
    id   INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);

-- Tenant-wide settings: tenant id, domain, seed, id counter, simulated clock, default caller.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Users, groups, service principals and administrative units.
CREATE TABLE directory_objects (
    id                    TEXT PRIMARY KEY,
    kind                  TEXT NOT NULL CHECK (kind IN ('user', 'group', 'servicePrincipal', 'administrativeUnit')),
    display_name          TEXT NOT NULL,
    user_principal_name   TEXT UNIQUE COLLATE NOCASE,
    mail                  TEXT,
    description           TEXT,
    is_assignable_to_role INTEGER NOT NULL DEFAULT 0,
    security_enabled      INTEGER NOT NULL DEFAULT 0,
    mail_enabled          INTEGER NOT NULL DEFAULT 0,
    app_id                TEXT,
    account_enabled       INTEGER NOT NULL DEFAULT 1,
    group_types           TEXT NOT NULL DEFAULT '[]',  -- JSON array: Unified, DynamicMembership
    created_at            INTEGER NOT NULL,
    -- Groups synchronised from an on-premises directory (schema version 7).
    on_premises_sync      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX directory_objects_by_name ON directory_objects (display_name COLLATE NOCASE);

-- Group membership and ownership; also administrative-unit membership (relation = 'member').
CREATE TABLE memberships (
    container_id TEXT NOT NULL REFERENCES directory_objects (id),
    member_id    TEXT NOT NULL REFERENCES directory_objects (id),
    relation     TEXT NOT NULL CHECK (relation IN ('member', 'owner')),
    PRIMARY KEY (container_id, relation, member_id)
) WITHOUT ROWID;
CREATE INDEX memberships_by_member ON memberships (member_id, relation);

-- Azure scopes (arm-pim §2.1): the tenant root management group, which every store has, and the
-- management groups, subscriptions, resource groups and resources added under it. `key` is the
-- canonical path in lower case, as ARM compares scopes (schema version 3).
CREATE TABLE azure_scopes (
    key          TEXT PRIMARY KEY,
    path         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('managementGroup', 'subscription', 'resourceGroup', 'resource')),
    display_name TEXT NOT NULL,
    parent_key   TEXT REFERENCES azure_scopes (key),
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX azure_scopes_by_parent ON azure_scopes (parent_key);

-- The Microsoft Graph permissions granted to the tenant's applications (service principals):
-- delegated scopes (`oauth2PermissionGrants`) and application roles (`appRoleAssignments`).
CREATE TABLE app_permissions (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('delegated', 'application')),
    permission TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    granted_by TEXT NOT NULL,
    UNIQUE (app_id, kind, permission)
);

-- A tenant's custom Azure roles (the built-in ones are catalog data). JSON columns hold
-- `permissions` (array of {actions, notActions, dataActions, notDataActions}) and
-- `assignableScopes` (array of scope paths).
CREATE TABLE azure_role_definitions (
    id                TEXT PRIMARY KEY,
    role_name         TEXT NOT NULL,
    description       TEXT NOT NULL,
    permissions       TEXT NOT NULL,
    assignable_scopes TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    created_by        TEXT NOT NULL,
    updated_at        INTEGER NOT NULL,
    updated_by        TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX azure_role_definitions_by_name ON azure_role_definitions (role_name COLLATE NOCASE);

CREATE TABLE role_definitions (
    id                 TEXT PRIMARY KEY,
    surface            TEXT NOT NULL DEFAULT 'directory',
    display_name       TEXT NOT NULL,
    description        TEXT,
    is_built_in        INTEGER NOT NULL,
    is_enabled         INTEGER NOT NULL,
    is_privileged      INTEGER NOT NULL DEFAULT 0,
    template_id        TEXT,
    version            TEXT,
    allowed_actions    TEXT NOT NULL,  -- JSON array of strings
    inherits_from      TEXT NOT NULL   -- JSON array of role definition ids
);
CREATE UNIQUE INDEX role_definitions_by_name ON role_definitions (surface, display_name COLLATE NOCASE);

-- One policy per (surface, scope, role); its assignment row is derived from it.
CREATE TABLE policies (
    id                 TEXT PRIMARY KEY,
    surface            TEXT NOT NULL,
    scope_id           TEXT NOT NULL,
    scope_type         TEXT NOT NULL,
    role_definition_id TEXT NOT NULL,
    last_modified_at   INTEGER,
    last_modified_by   TEXT,
    UNIQUE (surface, scope_id, role_definition_id)
);

-- The 17 rules of each policy, each as its Graph JSON (validated by the engine before writing).
CREATE TABLE policy_rules (
    policy_id TEXT NOT NULL REFERENCES policies (id),
    position  INTEGER NOT NULL,
    rule_id   TEXT NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (policy_id, rule_id)
) WITHOUT ROWID;

-- roleEligibilityScheduleRequests and roleAssignmentScheduleRequests. GUIDs are kept as their 16
-- bytes (src/store/keys.rs; an empty blob in target_schedule_id and created_by: the request's own
-- id, its principal); the closed vocabularies as small numbers (src/store/codes.rs). The
-- justification is a number in `texts`, as its mails name it; the schedule's start and the
-- completion are milliseconds after `created_at` (schema version 12).
CREATE TABLE requests (
    id                  TEXT PRIMARY KEY,
    surface             INTEGER NOT NULL,  -- 0 directory, 1 group, 2 azureResource
    kind                INTEGER NOT NULL CHECK (kind IN (0, 1)),  -- 0 assignment, 1 eligibility
    action              INTEGER NOT NULL,  -- 0 selfActivate, 1 adminAssign, ... (codes.rs)
    status              INTEGER NOT NULL,  -- 0 Provisioned, 1 Granted, 2 PendingApproval, ... (codes.rs)
    principal_id        TEXT NOT NULL,
    role_definition_id  TEXT NOT NULL,
    directory_scope_id  TEXT,
    app_scope_id        TEXT,
    justification       INTEGER,           -- texts
    has_schedule_info   INTEGER NOT NULL,
    start_after         INTEGER,           -- the schedule's start, after created_at
    expiration_type     INTEGER,  -- 0 afterDuration, 1 afterDateTime, 2 noExpiration, 3 notSpecified
    expiration_end      INTEGER,
    expiration_duration TEXT,
    ticket_number       TEXT,
    ticket_system       TEXT,
    target_schedule_id  TEXT,
    approval_id         TEXT,
    created_at          INTEGER NOT NULL,
    completed_after     INTEGER,           -- after created_at
    created_by          TEXT NOT NULL,
    activated_using     TEXT,
    canceled_at         INTEGER,
    trace               BLOB NOT NULL,  -- the decision trace, packed (texts; src/store/records.rs)
    -- Beta's ticketInfo (schema version 2).
    ticket_approver_id  TEXT,
    ticket_submitter_id TEXT,
    -- The name an ARM client gave the request in its PUT (schema version 4); Graph requests have none.
    client_name         TEXT,
    -- The creator was an application acting as itself, not a signed-in user.
    created_by_app      INTEGER NOT NULL DEFAULT 0
);
-- An ARM client's name for its request, looked up by name; unique.
CREATE UNIQUE INDEX requests_by_client_name ON requests (client_name COLLATE NOCASE) WHERE client_name IS NOT NULL;
-- The requests still waiting for a decision for a target (every request asks: pending_requests_for,
-- one statement per status, each naming its status as written here); only those few rows.
CREATE INDEX requests_pending ON requests (principal_id, role_definition_id)
    WHERE status = 3 /* PendingAdminDecision */ OR status = 2 /* PendingApproval */;
-- Creation order: the purge of old requests and when it is next due (min), the newest request,
-- listings in creation order, activations since a time (alerts), a replay's rewind.
CREATE INDEX requests_by_created ON requests (created_at);
-- The purge of cancelled requests and when it is next due; only cancelled rows.
CREATE INDEX requests_by_canceled ON requests (canceled_at) WHERE canceled_at IS NOT NULL;

-- roleEligibilitySchedules and roleAssignmentSchedules. A schedule that is live and Provisioned
-- is in effect: it is an instance, and (for assignments) a unifiedRoleAssignment; see the views.
-- GUIDs are kept as their 16 bytes (an empty blob in created_using: the schedule's own id), the
-- closed vocabularies as small numbers, as in requests.
CREATE TABLE schedules (
    id                  TEXT PRIMARY KEY,
    surface             INTEGER NOT NULL,  -- 0 directory, 1 group, 2 azureResource
    kind                INTEGER NOT NULL CHECK (kind IN (0, 1)),  -- 0 assignment, 1 eligibility
    principal_id        TEXT NOT NULL,
    role_definition_id  TEXT NOT NULL,
    directory_scope_id  TEXT,
    app_scope_id        TEXT,
    member_type         INTEGER NOT NULL,  -- 0 Direct, 1 Group, 2 Inherited
    assignment_type     INTEGER,           -- 0 Activated, 1 Assigned
    status              INTEGER NOT NULL,  -- as requests.status
    state               INTEGER NOT NULL CHECK (state = 0 OR state = 1 OR state = 2 OR state = 3),  -- 0 expired, 1 live, 2 removed, 3 replaced (no IN list: schema.rs)
    created_using       TEXT,
    created_at          INTEGER,
    modified_at         INTEGER,
    start_at            INTEGER NOT NULL,
    expiration_type     INTEGER NOT NULL,  -- as requests.expiration_type
    expiration_end      INTEGER,
    expiration_duration TEXT,
    end_at              INTEGER,
    activated_using     TEXT,
    instance_id         TEXT NOT NULL,
    ended_at            INTEGER,        -- when it ended; while live, its planned end (schedules.rs)
    replaces            TEXT,           -- a future-dated update replaces this schedule when it starts
    warn_14_at          INTEGER,        -- when the 14-day expiry notice is due (null: sent or none)
    warn_1_at           INTEGER         -- when the 1-day expiry notice is due
);
-- A principal's schedules for a role, in any state: what a request checks (its eligibility, its
-- live assignment), a renewal's expired schedules, a principal's memberships through PIM for
-- Groups, and what a principal held at a past time (access).
CREATE INDEX schedules_by_target ON schedules (principal_id, role_definition_id, kind, state);
-- The clock: the next live schedule to end, and those due to end by an instant.
CREATE INDEX schedules_live_by_end ON schedules (end_at) WHERE state = 1 /* live */;
-- The clock: the next future schedule to start, and those due to start by an instant.
CREATE INDEX schedules_live_by_start ON schedules (start_at) WHERE state = 1 /* live */ AND status = 1 /* Granted */;
-- The purge of ended schedules and when it is next due; what was in effect at a past time
-- (ended after it).
CREATE INDEX schedules_ended ON schedules (ended_at) WHERE state <> 1 /* live */;
-- Who holds a role now: every mail to administrators (the holders of two roles), a group's
-- members through PIM for Groups, who holds or could hold a role (who); only live rows.
CREATE INDEX schedules_live_by_role ON schedules (role_definition_id, kind) WHERE state = 1 /* live */;
-- At most one instance per id at a time; an instance found by its id.
CREATE UNIQUE INDEX schedules_one_instance ON schedules (instance_id) WHERE state = 1 /* live */ AND status = 0 /* Provisioned */;

-- Instances exist exactly while a schedule is in effect; deriving them keeps the 1:1 rules true.
-- The views spell the codes as their words and a schedule's own id as itself, for a person (or a
-- test) reading the store.
CREATE VIEW instances AS
    SELECT id,
           CASE surface WHEN 0 THEN 'directory' WHEN 1 THEN 'group' WHEN 2 THEN 'azureResource' END AS surface,
           CASE kind WHEN 0 THEN 'assignment' WHEN 1 THEN 'eligibility' END AS kind,
           principal_id,
           role_definition_id,
           directory_scope_id,
           app_scope_id,
           CASE member_type WHEN 0 THEN 'Direct' WHEN 1 THEN 'Group' WHEN 2 THEN 'Inherited' END AS member_type,
           CASE assignment_type WHEN 0 THEN 'Activated' WHEN 1 THEN 'Assigned' END AS assignment_type,
           CASE status WHEN 0 THEN 'Provisioned' WHEN 1 THEN 'Granted' WHEN 2 THEN 'PendingApproval' WHEN 3 THEN 'PendingAdminDecision' WHEN 4 THEN 'Revoked' WHEN 5 THEN 'Canceled' WHEN 6 THEN 'Denied' WHEN 7 THEN 'Failed' WHEN 8 THEN 'TimedOut' WHEN 9 THEN 'PendingEvaluation' END AS status,
           CASE state WHEN 0 THEN 'expired' WHEN 1 THEN 'live' WHEN 2 THEN 'removed' WHEN 3 THEN 'replaced' END AS state,
           iif(created_using = x'', id, created_using) AS created_using,
           created_at,
           modified_at,
           start_at,
           CASE expiration_type WHEN 0 THEN 'afterDuration' WHEN 1 THEN 'afterDateTime' WHEN 2 THEN 'noExpiration' WHEN 3 THEN 'notSpecified' END AS expiration_type,
           expiration_end,
           expiration_duration,
           end_at,
           activated_using,
           instance_id,
           NULL AS ended_at,
           replaces,
           warn_14_at,
           warn_1_at
    FROM schedules WHERE state = 1 /* live */ AND status = 0 /* Provisioned */;

-- unifiedRoleAssignment is 1:1 with assignment instances (reference §3.9).
CREATE VIEW role_assignments AS
    SELECT instance_id AS id, principal_id, role_definition_id, directory_scope_id, app_scope_id,
           id AS schedule_id, CASE member_type WHEN 0 THEN 'Direct' WHEN 1 THEN 'Group' WHEN 2 THEN 'Inherited' END AS member_type,
           CASE assignment_type WHEN 0 THEN 'Activated' WHEN 1 THEN 'Assigned' END AS assignment_type
    FROM schedules
    WHERE kind = 0 /* assignment */ AND state = 1 /* live */ AND status = 0 /* Provisioned */;

-- The clock: expiry notices due; only rows with a notice still to send.
CREATE INDEX schedules_warn_14 ON schedules (warn_14_at) WHERE warn_14_at IS NOT NULL;
CREATE INDEX schedules_warn_1 ON schedules (warn_1_at) WHERE warn_1_at IS NOT NULL;

-- The approval of a request (its id is the request's): one step per stage, as beta approvalStep.
-- Each step keeps the stage settings it started with, so a later policy change does not move
-- the goalposts of a request already waiting.
CREATE TABLE approval_steps (
    id            TEXT PRIMARY KEY,
    approval_id   TEXT NOT NULL,
    stage         INTEGER NOT NULL,              -- 1-based
    status        TEXT NOT NULL,                 -- NotStarted, InProgress, Completed, Expired, Canceled
    review_result TEXT NOT NULL,                 -- NotReviewed, Approved, Denied
    reviewed_by   TEXT,
    reviewed_at   INTEGER,
    justification TEXT,
    started_at    INTEGER,
    due_at        INTEGER,                       -- the stage times out then
    escalation_at INTEGER,                       -- escalation approvers may decide from then
    escalated     INTEGER NOT NULL DEFAULT 0,    -- they have been told
    settings      TEXT NOT NULL,                 -- the unifiedApprovalStage JSON
    UNIQUE (approval_id, stage)
);
CREATE INDEX approval_steps_due ON approval_steps (due_at) WHERE status = 'InProgress';
CREATE INDEX approval_steps_escalation ON approval_steps (escalation_at) WHERE status = 'InProgress' AND escalated = 0;

-- The outbox: every message the real service would mail. A message keeps what it was written
-- from, and its subject and body are rendered when it is read (src/model/mail.rs): a letter
-- keeps the role and principal as it named them (so a later rename changes no mail), and its
-- detail line as a window (starts_after, lasts, justification) or as text; a message given whole
-- (a hook's, or one kept from before schema version 10 that no letter renders exactly) keeps
-- its subject and body. The listing reads every row in order, so no index but the key.
CREATE TABLE notifications (
    seq            INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    event          INTEGER NOT NULL,             -- texts: RoleActivated, ExpiringIn14Days, Hook:NAME
    rule_id        INTEGER,                      -- texts: the notification rule that sent it
    recipient_type INTEGER NOT NULL,             -- texts: Admin, Requestor, Approver, Hook
    recipients     BLOB NOT NULL,                -- texts, packed: the addresses
    recipient_ids  BLOB NOT NULL,                -- texts, packed: the object ids (default recipients)
    request_id     TEXT,
    critical       INTEGER NOT NULL,
    role           INTEGER,                      -- texts: a letter's role
    principal      INTEGER,                      -- texts: a letter's principal
    starts_after   INTEGER,                      -- a letter's window: from, after `at`
    lasts          INTEGER,                      -- its length (null: permanent)
    justification  INTEGER,                      -- texts: the window's justification
    detail         TEXT,                         -- a letter's detail line, when it is no window
    subject        TEXT,                         -- a message given whole
    body           TEXT
);

-- Policy hooks: Lua sources with what they are attached to; they run in `position` order.
CREATE TABLE hooks (
    name               TEXT PRIMARY KEY,
    source             TEXT NOT NULL,
    role_definition_id TEXT,               -- null: every role
    scope              TEXT,               -- null: every scope
    added_by           TEXT NOT NULL,
    added_at           INTEGER NOT NULL,
    position           INTEGER NOT NULL
);

-- The audit trail: one row per state change, written in the same transaction. Its words are
-- numbers in `audit_texts`; its result a code (schema version 12; a refusal's row is found by
-- `result = 1`). Every read of it goes through the whole trail in order, so no index but the key.
CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor_id   INTEGER NOT NULL,  -- audit_texts
    activity   INTEGER NOT NULL,  -- audit_texts
    category   INTEGER NOT NULL,  -- audit_texts
    result     INTEGER NOT NULL CHECK (result = 0 OR result = 1),  -- 0 success, 1 failure
    reason     INTEGER,           -- audit_texts
    request_id TEXT,
    targets    BLOB NOT NULL      -- audit_texts, packed: each target's JSON {id, type, displayName},
                                  -- or 0, its type and its GUID's 16 bytes (no display name; version 13)
);

-- Marks (schema version 8): the tenant as `pimlab mark NAME` saw it, as the Graph/ARM collections
-- `export --format json` writes, for `export --since NAME`. The lab's bookmarks, not the tenant's.
CREATE TABLE marks (
    name     TEXT PRIMARY KEY COLLATE NOCASE,
    taken_at INTEGER NOT NULL,
    snapshot TEXT NOT NULL
) WITHOUT ROWID;

-- PIM alerts (schema version 9): what the tenant changed of an alert's configuration (a row only
-- for an alert changed from its defaults), and its dismissal. `settings` is a JSON object of the
-- thresholds set, by their Graph names; `dismissed` the JSON array of the incident ids dismissed
-- (the alert is active again when an incident outside it appears, or after a refresh).
CREATE TABLE alert_settings (
    alert        TEXT PRIMARY KEY,
    is_enabled   INTEGER NOT NULL DEFAULT 1,
    settings     TEXT NOT NULL DEFAULT '{}',
    dismissed    TEXT,
    dismissed_at INTEGER,
    dismissed_by TEXT,
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;
