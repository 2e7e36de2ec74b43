-- pimlab run scripts/02-approval.lua --demo
--
-- Lesson 2: Global Administrator activations that need an approver.
--
-- With "require approval to activate" on, a selfActivate request stops at `PendingApproval`
-- (its approval has the same id as the request) and nothing is granted until an approver
-- decides. Approvers are the users and group members the role's settings name (here Kenji and
-- Dev), or, when none are named, the holders of Privileged Role Administrator and Global
-- Administrator. Nobody decides their own request, an approver must say why, the first decision
-- wins, and an approved activation starts at the moment of approval and lasts what was asked.
-- A request nobody decides times out after the stage's deadline (1 day by default).

local GA = "Global Administrator"
local function section(title) print("") print("== " .. title) end
local function as(who, fn) return pim.as(who, fn) end
local function ask(reason)
  return as("alice", function() return pim.activate{role = GA, duration = "PT2H", justification = reason} end)
end

section("The setting")
pim.policy.set(GA, {require_approval = true, approver = {"kenji", "dev"}})
local approval = pim.policy.show(GA).rules
for _, rule in ipairs(approval) do
  if rule.id == "Approval_EndUser_Assignment" then approval = rule.setting end
end
pim.expect(approval.isApprovalRequired, "Approval_EndUser_Assignment now requires approval")
pim.expect_eq(approval.approvalMode, "SingleStage", "one stage")
pim.expect_eq(#approval.approvalStages[1].primaryApprovers, 2, "with two named approvers")

section("Alice asks; nothing is granted yet")
local req = ask("Recover the break-glass account's MFA")
pim.expect_eq(req.status, "PendingApproval", "the request waits for a decision")
pim.expect_eq(req.approvalId, req.id, "its approval has the request's id")
pim.expect_eq(req.scheduleInfo.startDateTime, nil, "it has no start time until approved")
pim.expect_eq(#pim.active.list{principal = "alice", now = true}, 0, "Alice holds nothing")
pim.expect_eq(#as("kenji", function() return pim.approvals{mine = true} end), 1, "Kenji has it in his queue")
pim.expect_eq(#as("lena", function() return pim.approvals{mine = true} end), 0, "Lena does not")
local mail = pim.notifications{to = "kenji"}
print("Kenji's mail: " .. mail[#mail].subject)

section("Who may decide")
local e = pim.expect_error("UnauthorizedAccessException", function()
  return as("lena", function() return pim.approve(req.id, "Sure") end)
end, "Lena is not an approver (403)")
pim.expect_eq(e.details[1].code, "NotAnApprover", "the detail says why")
pim.expect_error("BadRequest", function()
  return as("kenji", function() return pim.approve(req.id) end)
end, "an approver must give a justification")

section("Kenji approves half an hour later")
pim.clock.advance("PT30M")
local done = as("kenji", function() return pim.approve(req.id, "Confirmed with Alice by phone") end)
pim.expect_eq(done.status, "Provisioned", "approved: the activation is granted")
pim.expect_eq(done.scheduleInfo.startDateTime, "2025-01-06T09:30:00Z", "it starts at approval time")
pim.expect_eq(pim.active.list{principal = "alice", now = true}[1].endDateTime, "2025-01-06T11:30:00Z",
  "and lasts the 2 hours Alice asked for")
e = pim.expect_error("Conflict", function()
  return as("dev", function() return pim.approve(req.id, "Me too") end)
end, "Dev is too late: the first decision wins (409)")
print("  " .. e.details[1].message)
local steps = pim.graph("GET", "/beta/roleManagement/directory/roleAssignmentApprovals/" .. req.id).steps
pim.expect_eq(steps[1].reviewResult, "Approved", "Graph (beta) shows the step Approved")
pim.expect_eq(steps[1].reviewedBy.displayName, "Kenji Sato", "by Kenji")

section("A denial")
pim.clock.advance("PT3H")
local again = ask("Change a federation setting")
local denied = as("dev", function() return pim.deny(again.id, "Use a change ticket for federation changes") end)
pim.expect_eq(denied.status, "Denied", "Dev denies: nothing is granted")
mail = pim.notifications{to = "alice"}
print("Alice's mail: " .. mail[#mail].subject)

section("Nobody answers: the request times out")
local late = ask("Weekend maintenance")
local report = pim.clock.advance("P2D")
pim.expect_eq(report.timedOut, 1, "after the stage's 1-day deadline the approval expires")
pim.expect_eq(pim.request(late.id).status, "TimedOut", "the request ends TimedOut")

section("A request can be withdrawn while it waits")
local withdrawn = ask("Actually not needed")
local canceled = as("alice", function() return pim.cancel(withdrawn.id) end)
pim.expect_eq(canceled.status, "Canceled", "Alice cancels her pending request")
pim.expect_eq(#pim.approvals(), 0, "no approval is waiting any more")

section("Without named approvers, the privileged administrators decide")
-- `policy set --approver` replaces approvers but cannot clear them; a raw rule PATCH can.
-- pim.array marks the lists that must stay JSON arrays when empty.
pim.policy.set(GA, {rule = "Approval_EndUser_Assignment", body = {setting = {
  isApprovalRequired = true, isApprovalRequiredForExtension = false,
  isRequestorJustificationRequired = true, approvalMode = "SingleStage",
  approvalStages = {{
    approvalStageTimeOutInDays = 1, isApproverJustificationRequired = true,
    escalationTimeInMinutes = 0, isEscalationEnabled = false,
    primaryApprovers = pim.array(), escalationApprovers = pim.array(),
  }},
}}})
local fallback = ask("Named approvers removed")
local approvers = pim.approvals()[1].approvers
pim.expect_eq(#approvers, 1, "one default approver")
pim.expect_eq(approvers[1], pim.principal("breakglass@contoso.example").id,
  "the break-glass account, the only active Global Administrator")
pim.expect_eq(pim.approve(fallback.id, "Break-glass review").status, "Provisioned", "who approves it")
