//! The arguments of every operation, typed. One struct serves two surfaces: clap reads it from a
//! command line (`--for-group G`) and serde from a script's table (`for_group = "G"`), so the
//! command line and the `pim` API cannot drift apart: a flag is a key with `_` for `-`.
//!
//! Optional fields are `Option`/`bool`/`Vec` with `#[serde(default)]`, so a script leaves out what
//! a command line would leave out; typed values go through the parsers of [`super::values`].

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde::Deserialize;

use super::values::{self, de};
use crate::model::{IsoDuration, Status, TicketInfo, Timestamp};

/// When a schedule starts and ends.
#[derive(Debug, Args, Clone, Default, Deserialize)]
pub struct ScheduleArgs {
    /// Start time (ISO 8601); default now.
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub start: Option<Timestamp>,
    /// Length (ISO 8601 such as PT8H or P90D, or 8h, 1h30m, 1.5h, 90d).
    #[arg(long, value_name = "DURATION", conflicts_with_all = ["until", "permanent"], value_parser = values::duration)]
    #[serde(default, deserialize_with = "de::duration")]
    pub duration: Option<IsoDuration>,
    /// End time (ISO 8601).
    #[arg(long, value_name = "TIME", conflicts_with = "permanent", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub until: Option<Timestamp>,
    /// No expiration.
    #[arg(long)]
    #[serde(default)]
    pub permanent: bool,
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct TargetArgs {
    /// Principal: id, user principal name or display name.
    #[arg(long, short)]
    pub principal: String,
    /// Role: id or display name; with --group, `member` or `owner` (also spelt --access).
    #[arg(long, short, visible_alias = "access")]
    #[serde(alias = "access")]
    pub role: String,
    /// Scope: "/" (tenant), an administrative unit's name or id, or a directory scope path.
    #[arg(long, default_value = "/")]
    #[serde(default = "de::root_scope")]
    pub scope: String,
    /// PIM for Groups: the group (id or display name) whose membership or ownership this is;
    /// --access (or --role) is then `member` or `owner`.
    #[arg(long, value_name = "GROUP", conflicts_with = "scope")]
    pub group: Option<String>,
}

#[derive(Debug, Args, Clone, Default, Deserialize)]
pub struct RequestOptions {
    /// Why the request is made (the policy may require one; at most 500 characters).
    #[arg(long, short)]
    pub justification: Option<String>,
    /// Ticket as SYSTEM:NUMBER (e.g. ServiceNow:INC0012345).
    #[arg(long, value_name = "SYSTEM:NUMBER", value_parser = values::ticket)]
    #[serde(default, deserialize_with = "de::ticket")]
    pub ticket: Option<TicketInfo>,
    /// Run every check and store nothing (isValidationOnly).
    #[arg(long)]
    #[serde(default)]
    pub validate_only: bool,
}

#[derive(Debug, Subcommand, Clone)]
pub enum AdminAction {
    /// Create (adminAssign).
    Assign(AdminArgs),
    /// Replace the schedule of an existing one (adminUpdate).
    Update(AdminArgs),
    /// Remove (adminRemove).
    Remove(AdminArgs),
    /// Extend one that is about to expire (adminExtend).
    Extend(AdminArgs),
    /// Renew one that has expired (adminRenew).
    Renew(AdminArgs),
    /// List current and future ones.
    List(ListArgs),
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct AdminArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    #[serde(flatten)]
    pub schedule: ScheduleArgs,
    #[command(flatten)]
    #[serde(flatten)]
    pub options: RequestOptions,
}

#[derive(Debug, Args, Clone, Default, Deserialize)]
pub struct ListArgs {
    /// Only this principal's (id, user principal name or display name), with what it holds
    /// through role-assignable groups (memberType Group).
    #[arg(long, short)]
    pub principal: Option<String>,
    /// Only the caller's (--as), with what the caller holds through groups.
    #[arg(long, conflicts_with = "principal")]
    #[serde(default)]
    pub mine: bool,
    /// Only this role's (id or display name); with --group, `member` or `owner` (--access).
    #[arg(long, short, visible_alias = "access")]
    #[serde(alias = "access")]
    pub role: Option<String>,
    /// Only PIM for Groups memberships and ownerships of this group (id or display name).
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Only those in effect now (instances), not future ones.
    #[arg(long)]
    #[serde(default)]
    pub now: bool,
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct ActivateArgs {
    /// The role to activate (id or display name); with --group, `member` or `owner` (--access).
    #[arg(long, short, visible_alias = "access")]
    #[serde(alias = "access")]
    pub role: String,
    /// Where: "/" (tenant), an administrative unit's name or id, or a directory scope path.
    #[arg(long, default_value = "/")]
    #[serde(default = "de::root_scope")]
    pub scope: String,
    /// Activate for a role-assignable group you belong to, rather than for yourself.
    #[arg(long, value_name = "GROUP", conflicts_with = "group")]
    pub for_group: Option<String>,
    /// PIM for Groups: the group (id or display name) whose membership or ownership this is;
    /// --access (or --role) is then `member` or `owner`.
    #[arg(long, value_name = "GROUP", conflicts_with = "scope")]
    pub group: Option<String>,
    /// When the activation starts (default: now); a time in ISO 8601.
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub start: Option<Timestamp>,
    /// Length (default: the role's maximum activation duration).
    #[arg(long, value_name = "DURATION", value_parser = values::duration)]
    #[serde(default, deserialize_with = "de::duration")]
    pub duration: Option<IsoDuration>,
    #[command(flatten)]
    #[serde(flatten)]
    pub options: RequestOptions,
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct SelfArgs {
    /// The role (id or display name); with --group, `member` or `owner` (--access).
    #[arg(long, short, visible_alias = "access")]
    #[serde(alias = "access")]
    pub role: String,
    /// Where: "/" (tenant), an administrative unit's name or id, or a directory scope path.
    #[arg(long, default_value = "/")]
    #[serde(default = "de::root_scope")]
    pub scope: String,
    /// For a role-assignable group you belong to, rather than for yourself.
    #[arg(long, value_name = "GROUP", conflicts_with = "group")]
    pub for_group: Option<String>,
    /// PIM for Groups: the group (id or display name) whose membership or ownership this is;
    /// --access (or --role) is then `member` or `owner`.
    #[arg(long, value_name = "GROUP", conflicts_with = "scope")]
    pub group: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub options: RequestOptions,
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct SelfChangeArgs {
    /// The role (id or display name); with --group, `member` or `owner` (--access).
    #[arg(long, short, visible_alias = "access")]
    #[serde(alias = "access")]
    pub role: String,
    /// Where: "/" (tenant), an administrative unit's name or id, or a directory scope path.
    #[arg(long, default_value = "/")]
    #[serde(default = "de::root_scope")]
    pub scope: String,
    /// PIM for Groups: the group (id or display name) whose membership or ownership this is;
    /// --access (or --role) is then `member` or `owner`.
    #[arg(long, value_name = "GROUP", conflicts_with = "scope")]
    pub group: Option<String>,
    /// The active assignment rather than the eligibility.
    #[arg(long)]
    #[serde(default)]
    pub active: bool,
    #[command(flatten)]
    #[serde(flatten)]
    pub schedule: ScheduleArgs,
    #[command(flatten)]
    #[serde(flatten)]
    pub options: RequestOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KindArg {
    Eligible,
    Active,
}

impl KindArg {
    pub fn kind(self) -> crate::model::RequestKind {
        match self {
            KindArg::Eligible => crate::model::RequestKind::Eligibility,
            KindArg::Active => crate::model::RequestKind::Assignment,
        }
    }
}

#[derive(Debug, Args, Clone, Default, Deserialize)]
pub struct RequestsArgs {
    /// Only requests still waiting: for a decision, or for their start time (Granted).
    #[arg(long)]
    #[serde(default)]
    pub pending: bool,
    /// Only requests for the caller.
    #[arg(long)]
    #[serde(default)]
    pub mine: bool,
    /// Only eligibility requests, or only assignment (active) requests.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Only requests for this principal (id, user principal name or display name).
    #[arg(long, short)]
    pub principal: Option<String>,
    /// Only requests for this role (id or display name).
    #[arg(long, short)]
    pub role: Option<String>,
    /// A status such as Provisioned or PendingApproval.
    #[arg(long, value_parser = values::status)]
    #[serde(default, deserialize_with = "de::status")]
    pub status: Option<Status>,
}

/// One request, by id.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct IdArgs {
    /// The request's id, any unique beginning of it (at least 4 characters), or `last` for the
    /// newest request.
    pub id: String,
}

#[derive(Debug, Subcommand, Clone)]
pub enum RequestAction {
    /// Show one request.
    Show(IdArgs),
    /// Cancel a Granted or pending request.
    Cancel(IdArgs),
    /// Tell the story of a request: every check, the value seen, the limit, the outcome.
    Explain(IdArgs),
}

#[derive(Debug, Args, Clone, Default, Deserialize)]
pub struct ApprovalsArgs {
    /// Only those the caller may decide.
    #[arg(long)]
    #[serde(default)]
    pub mine: bool,
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct DecisionArgs {
    /// The request (its approval has the same id): its id, a unique beginning of it, or `last`.
    pub id: String,
    /// Why you decide so (the approval stage may require it).
    #[arg(long, short)]
    pub justification: Option<String>,
}

#[derive(Debug, Args, Clone, Default, Deserialize)]
pub struct NotificationsArgs {
    /// Only messages to this principal (id, user principal name or display name).
    #[arg(long, value_name = "PRINCIPAL")]
    pub to: Option<String>,
    /// Only messages sent at or after this time (ISO 8601).
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub since: Option<Timestamp>,
    /// Print each message's body too.
    #[arg(long)]
    #[serde(default)]
    pub full: bool,
}

/// One role, by name or id.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct RoleArg {
    /// The role: id or display name.
    pub role: String,
}

#[derive(Debug, Args, Clone, Default, Deserialize)]
pub struct RoleListArgs {
    /// Only roles labelled privileged.
    #[arg(long)]
    #[serde(default)]
    pub privileged: bool,
    /// The Azure resource roles (built-in and custom) instead of the directory's.
    #[arg(long)]
    #[serde(default)]
    pub azure: bool,
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct RoleAddArgs {
    /// The custom role's display name (unique).
    pub name: String,
    /// Allowed resource action, e.g. microsoft.directory/users/basic/update; repeatable.
    #[arg(long = "action", value_name = "ACTION", required = true)]
    #[serde(rename = "action", alias = "actions", deserialize_with = "de::one_or_many")]
    pub actions: Vec<String>,
    /// What the role is for.
    #[arg(long)]
    pub description: Option<String>,
    /// Create it disabled (not assignable).
    #[arg(long)]
    #[serde(default)]
    pub disabled: bool,
    /// A custom Azure role instead of a directory role: assignable at and below each --scope.
    #[arg(long, requires = "scopes")]
    #[serde(default)]
    pub azure: bool,
    /// For --azure: a scope the role may be assigned at or below (ARM path or scope name);
    /// repeatable.
    #[arg(long = "scope", value_name = "SCOPE", requires = "azure")]
    #[serde(default, rename = "scope", alias = "scopes", deserialize_with = "de::one_or_many")]
    pub scopes: Vec<String>,
    /// For --azure: an action the role does not grant though --action matches it; repeatable.
    #[arg(long = "not-action", value_name = "ACTION", requires = "azure")]
    #[serde(default, rename = "notAction", alias = "notActions", deserialize_with = "de::one_or_many")]
    pub not_actions: Vec<String>,
    /// For --azure: a data-plane action the role grants; repeatable.
    #[arg(long = "data-action", value_name = "ACTION", requires = "azure")]
    #[serde(default, rename = "dataAction", alias = "dataActions", deserialize_with = "de::one_or_many")]
    pub data_actions: Vec<String>,
    /// For --azure: the role definition's GUID (else one from the tenant's generator).
    #[arg(long, requires = "azure")]
    pub id: Option<String>,
}

#[derive(Debug, Subcommand, Clone)]
pub enum AppAction {
    /// Register an application: a service principal calls can come through.
    Add(AppAddArgs),
    /// Grant an application a Microsoft Graph permission (admin consent): a delegated scope, or
    /// with --application an application permission.
    Grant(AppPermissionArgs),
    /// Take a permission back.
    Revoke(AppPermissionArgs),
    /// Show an application and the permissions it holds.
    Show(ObjectName),
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct AppAddArgs {
    /// The application's display name.
    pub name: String,
    /// What it is for.
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct AppPermissionArgs {
    /// The application: its service principal's id or display name.
    pub name: String,
    /// The permission, e.g. RoleEligibilitySchedule.ReadWrite.Directory.
    pub permission: String,
    /// An application permission (the app acts as itself) instead of a delegated scope.
    #[arg(long)]
    #[serde(default)]
    pub application: bool,
}

#[derive(Debug, Subcommand, Clone)]
pub enum RoleAction {
    /// List role definitions.
    List(RoleListArgs),
    /// Show one role definition.
    Show(RoleArg),
    /// Create a custom role definition (with its own policy at the defaults).
    Add(RoleAddArgs),
    /// Delete a custom role definition nobody holds.
    Delete(RoleArg),
}

#[derive(Debug, Subcommand, Clone)]
pub enum PolicyAction {
    /// Show a role's settings readably.
    Show(PolicyShowArgs),
    /// Change a role's settings.
    Set(PolicySetArgs),
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct PolicyShowArgs {
    /// The role: id or display name (a built-in Azure role's, with an Azure --scope); with
    /// --group, `member` or `owner`.
    #[serde(alias = "access")]
    pub role: String,
    /// For an Azure role: the scope whose settings to show (an ARM path or a scope's name); each
    /// scope has its own.
    #[arg(long, conflicts_with = "group")]
    pub scope: Option<String>,
    /// PIM for Groups: the group (id or display name) whose member or owner settings to show.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
}

#[derive(Debug, Args, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySetArgs {
    /// The role whose policy (role settings) to change: id or display name; with --group,
    /// `member` or `owner`.
    #[serde(alias = "access")]
    pub role: String,
    /// For an Azure role: the scope whose settings to change (an ARM path or a scope's name).
    #[arg(long, conflicts_with = "group")]
    pub scope: Option<String>,
    /// PIM for Groups: the group (id or display name) whose member or owner settings to change.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Maximum activation duration (Expiration_EndUser_Assignment).
    #[arg(long, value_name = "DURATION", value_parser = values::duration)]
    #[serde(default, deserialize_with = "de::duration")]
    pub activation_max: Option<IsoDuration>,
    /// Require MFA on activation.
    #[arg(long, value_name = "BOOL")]
    pub require_mfa: Option<bool>,
    /// Require a justification on activation.
    #[arg(long, value_name = "BOOL")]
    pub require_justification: Option<bool>,
    /// Require a ticket on activation.
    #[arg(long, value_name = "BOOL")]
    pub require_ticket: Option<bool>,
    /// Require approval to activate.
    #[arg(long, value_name = "BOOL")]
    pub require_approval: Option<bool>,
    /// Approvers (users or groups), replacing the current ones; repeatable.
    #[arg(long = "approver", value_name = "PRINCIPAL")]
    #[serde(default, rename = "approver", alias = "approvers", deserialize_with = "de::one_or_many")]
    pub approvers: Vec<String>,
    /// Name no approvers: the holders of Privileged Role Administrator and Global Administrator decide.
    #[arg(long, conflicts_with = "approvers")]
    #[serde(default)]
    pub clear_approvers: bool,
    /// Require an authentication context on activation (e.g. c1), or "none".
    #[arg(long, value_name = "CLAIM")]
    pub require_auth_context: Option<String>,
    /// Allow permanent eligible assignments.
    #[arg(long, value_name = "BOOL")]
    pub allow_permanent_eligible: Option<bool>,
    /// Expire eligible assignments after this long.
    #[arg(long, value_name = "DURATION", value_parser = values::duration)]
    #[serde(default, deserialize_with = "de::duration")]
    pub eligible_max: Option<IsoDuration>,
    /// Allow permanent active assignments.
    #[arg(long, value_name = "BOOL")]
    pub allow_permanent_active: Option<bool>,
    /// Expire active assignments after this long.
    #[arg(long, value_name = "DURATION", value_parser = values::duration)]
    #[serde(default, deserialize_with = "de::duration")]
    pub active_max: Option<IsoDuration>,
    /// Require a justification on active assignment.
    #[arg(long, value_name = "BOOL")]
    pub require_justification_on_assign: Option<bool>,
    /// Patch one rule by id with a Graph JSON body (or @FILE), as PATCH .../rules/{id} does.
    #[arg(long, value_name = "RULE_ID", requires = "body")]
    pub rule: Option<String>,
    /// The rule patch for --rule, as Graph JSON, or @FILE to read it from a file.
    #[arg(long, value_name = "JSON", requires = "rule")]
    #[serde(default, deserialize_with = "de::json_text")]
    pub body: Option<String>,
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct HookAddArgs {
    /// The hook's name (unique; used by show, test and remove).
    pub name: String,
    /// The hook's Lua source file.
    #[arg(long, value_name = "F.lua", required = true)]
    pub file: Option<PathBuf>,
    /// The hook's source itself (scripts give it this way; they cannot read files).
    #[arg(skip)]
    pub source: Option<String>,
    /// Only for this role.
    #[arg(long, short)]
    pub role: Option<String>,
    /// Only at this scope.
    #[arg(long)]
    pub scope: Option<String>,
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct HookUpdateArgs {
    /// The hook to change; it keeps its place in the order, its role and its scope.
    pub name: String,
    /// The hook's new Lua source file.
    #[arg(long, value_name = "F.lua", required = true)]
    pub file: Option<PathBuf>,
    /// The new source itself (scripts give it this way; they cannot read files).
    #[arg(skip)]
    pub source: Option<String>,
}

/// One hook, by name.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct HookName {
    /// The hook's name.
    pub name: String,
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct HookTestArgs {
    /// The hook to try on a request, without storing anything.
    pub name: String,
    /// The request as Graph JSON, or @FILE.
    #[arg(long, value_name = "JSON")]
    #[serde(deserialize_with = "de::required_json_text")]
    pub request: String,
    /// Which request collection the body is for (default: from its action).
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Try it as if the simulated clock read this time (ISO 8601); the clock does not move.
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub at: Option<Timestamp>,
}

#[derive(Debug, Subcommand, Clone)]
pub enum HookAction {
    /// Attach a hook: a Lua file returning a table of handlers (validate, route, completed).
    Add(HookAddArgs),
    /// List the hooks, in the order they run.
    List,
    /// Show one hook and its source.
    Show(HookName),
    /// Give a hook new source, keeping its place in the order, its role and its scope.
    Update(HookUpdateArgs),
    /// Detach a hook.
    Remove(HookName),
    /// Run a hook on a request (a Graph request body) without changing anything.
    Test(HookTestArgs),
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct ObjectAddArgs {
    /// Display name.
    pub name: String,
    /// User principal name (users; default name@domain).
    #[arg(long)]
    pub upn: Option<String>,
    /// A description (at most 1,024 characters).
    #[arg(long)]
    pub description: Option<String>,
    /// Groups: may hold directory roles.
    #[arg(long)]
    #[serde(default)]
    pub role_assignable: bool,
    /// Groups: synchronised from an on-premises directory (a lab setting; such a group is
    /// managed on-premises, and PIM for Groups cannot govern it).
    #[arg(long)]
    #[serde(default)]
    pub synced: bool,
}

/// One directory object, by id, user principal name or display name.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct ObjectName {
    /// The object: id, user principal name or display name.
    pub name: String,
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct AddMemberArgs {
    /// The group or administrative unit: id or display name.
    pub container: String,
    /// The member to add: id, user principal name or display name.
    pub member: String,
    /// As an owner rather than a member.
    #[arg(long)]
    #[serde(default)]
    pub owner: bool,
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct ContainerArg {
    /// The group or administrative unit: id or display name.
    pub container: String,
}

#[derive(Debug, Subcommand, Clone)]
pub enum ObjectAction {
    /// Create one.
    Add(ObjectAddArgs),
    /// List them.
    List,
    /// Show one.
    Show(ObjectName),
    /// Add a member (or owner) to a group or administrative unit.
    AddMember(AddMemberArgs),
    /// List a group's or unit's members.
    Members(ContainerArg),
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct ClockSetArgs {
    /// The new simulated time (ISO 8601); the clock only moves forward.
    #[arg(value_parser = values::time)]
    #[serde(deserialize_with = "de::required_time")]
    pub time: Timestamp,
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct ClockAdvanceArgs {
    /// How far to move the clock (ISO 8601 such as PT3H or P1D).
    #[arg(value_parser = values::duration)]
    #[serde(deserialize_with = "de::required_duration")]
    pub duration: IsoDuration,
}

#[derive(Debug, Subcommand, Clone)]
pub enum ClockAction {
    /// Print the simulated time.
    Show,
    /// Move the clock forward to TIME, processing every due event.
    Set(ClockSetArgs),
    /// Move the clock forward by DURATION (PT8H, P30D, 8h, 30d), processing every due event.
    Advance(ClockAdvanceArgs),
}

#[derive(Debug, Subcommand, Clone)]
pub enum ScopeAction {
    /// Add a management group, subscription, resource group or resource to the Azure estate.
    Add(ScopeAddArgs),
    /// Every scope of the estate.
    List,
    /// One scope: where it sits and what is under it.
    Show(ScopeName),
    /// The estate as a tree, from the tenant root (or from SCOPE).
    Tree(ScopeTreeArgs),
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct ScopeAddArgs {
    /// The scope's path, as ARM writes it: /providers/Microsoft.Management/managementGroups/NAME,
    /// /subscriptions/GUID, /subscriptions/GUID/resourceGroups/NAME, or a resource under a
    /// resource group (.../providers/NAMESPACE/TYPE/NAME).
    pub path: String,
    /// Display name (default: the last segment of the path).
    #[arg(long)]
    pub name: Option<String>,
    /// For a management group or subscription: the management group it goes under, by path or
    /// name (default: the tenant root group). Other scopes sit where their paths say.
    #[arg(long)]
    pub parent: Option<String>,
}

/// One Azure scope, by path (any spelling ARM accepts) or display name.
#[derive(Debug, Args, Clone, Deserialize)]
pub struct ScopeName {
    /// The scope: its path, or its display name.
    pub scope: String,
}

#[derive(Debug, Args, Clone, Default, Deserialize)]
pub struct ScopeTreeArgs {
    /// Where the tree starts (path or name; default: the tenant root group).
    pub scope: Option<String>,
}

#[derive(Debug, Subcommand, Clone)]
pub enum ConfigAction {
    /// The fidelity profile: switches for the portal's behaviour and pimlab's extensions, all off
    /// by default (pimlab then does what the Graph API does).
    Fidelity {
        #[command(subcommand)]
        action: Option<FidelityAction>,
    },
}

#[derive(Debug, Subcommand, Clone)]
pub enum FidelityAction {
    /// Every switch: on or off, where it comes from, and what it changes.
    Show,
    /// Turn one switch on or off.
    Set(FidelitySetArgs),
}

#[derive(Debug, Args, Clone, Deserialize)]
pub struct FidelitySetArgs {
    /// The switch (portal-extend-renew-windows, graph-multi-stage-approvals, graph-extension-approvals).
    #[arg(value_name = "NAME", value_parser = values::fidelity_switch)]
    #[serde(deserialize_with = "de::fidelity_switch")]
    pub name: crate::model::FidelitySwitch,
    /// Turn it on or off.
    #[arg(value_enum)]
    #[serde(deserialize_with = "de::on_off")]
    pub state: OnOff,
}

/// A switch's new state. A script may also give `true` or `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

impl OnOff {
    pub fn is_on(self) -> bool {
        self == OnOff::On
    }
}

#[derive(Debug, Args, Clone, Default, Deserialize)]
pub struct AuditArgs {
    /// Only records at or after this time (ISO 8601).
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    #[serde(default, deserialize_with = "de::time")]
    pub since: Option<Timestamp>,
    /// Only records about this principal (id, user principal name or display name).
    #[arg(long, short)]
    pub principal: Option<String>,
    /// Only records about this role (id or display name).
    #[arg(long, short)]
    pub role: Option<String>,
}
