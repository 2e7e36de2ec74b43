-- pimlab run scripts/07-multi-stage-approval.lua --demo
--
-- Lesson 7: two approval stages, and escalation when an approver does not answer.
--
-- `policy set --require-approval` covers the common case. Everything else about approval lives
-- in one policy rule, Approval_EndUser_Assignment, which the Graph API (and `policy set --rule`)
-- patches as JSON: `approvalMode` "Serial" runs the stages in turn, each with its own primary
-- approvers and deadline; with `isEscalationEnabled`, the stage's escalation approvers join
-- when the primary ones have not decided after `escalationTimeInMinutes`. Here the line manager
-- (Kenji) decides first, with Grace as escalation after two hours, then the security team lead
-- (Dev) decides. Each stage's decision is a step of the approval, visible through Graph beta.

local GA = "Global Administrator"
local function section(title) print("") print("== " .. title) end
local function id(name) return pim.principal(name).id end
local function user(name) return {["@odata.type"] = "#microsoft.graph.singleUser", userId = id(name)} end
local function queue(who) return #pim.as(who, function() return pim.approvals{mine = true} end) end

section("Two serial stages, the first with escalation")
pim.policy.set(GA, {rule = "Approval_EndUser_Assignment", body = {
  ["@odata.type"] = "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
  setting = {
    isApprovalRequired = true, isApprovalRequiredForExtension = false,
    isRequestorJustificationRequired = true, approvalMode = "Serial",
    approvalStages = {
      { approvalStageTimeOutInDays = 1, isApproverJustificationRequired = true,
        primaryApprovers = {user("kenji")},
        isEscalationEnabled = true, escalationTimeInMinutes = 120, escalationApprovers = {user("grace")} },
      { approvalStageTimeOutInDays = 1, isApproverJustificationRequired = true,
        primaryApprovers = {user("dev")},
        isEscalationEnabled = false, escalationTimeInMinutes = 0, escalationApprovers = pim.array() },
    },
  },
}})
local shown = pim.policy.show(GA)
for _, rule in ipairs(shown.rules) do
  if rule.id == "Approval_EndUser_Assignment" then
    pim.expect_eq(rule.setting.approvalMode, "Serial", "the approval mode is Serial")
    pim.expect_eq(#rule.setting.approvalStages, 2, "with two stages")
  end
end

section("Alice asks; stage 1 waits for Kenji")
local req = pim.as("alice", function()
  return pim.activate{role = GA, duration = "PT1H", justification = "Emergency change CHG-2291"}
end)
pim.expect_eq(req.status, "PendingApproval", "the request waits")
pim.expect_eq(queue("kenji"), 1, "Kenji has it")
pim.expect_eq(queue("dev"), 0, "Dev does not yet: stage 2 has not started")
pim.expect_eq(queue("grace"), 0, "Grace does not yet: no escalation so far")

section("Two hours without a decision: Grace is added")
local report = pim.clock.advance("PT2H")
print("  " .. report.events[1])
pim.expect_eq(queue("grace"), 1, "Grace now has it too")
pim.expect_eq(queue("kenji"), 1, "and Kenji still does")
local mails = pim.notifications{to = "grace"}
print("  Grace's mail: " .. mails[#mails].subject)
local stage1 = pim.as("grace", function() return pim.approve(req.id, "Kenji is on leave; change approved by CAB") end)
pim.expect_eq(stage1.status, "PendingApproval", "Grace approves stage 1; the request still waits")

section("Stage 2: Dev")
pim.expect_eq(queue("kenji"), 0, "stage 1 is closed for Kenji")
pim.expect_eq(queue("dev"), 1, "Dev has it now")
local done = pim.as("dev", function() return pim.approve(req.id, "Security review done") end)
pim.expect_eq(done.status, "Provisioned", "both stages approved: Alice is Global Administrator")

section("The approval's steps, through Graph beta")
local approval, status = pim.graph("GET", "/beta/roleManagement/directory/roleAssignmentApprovals/" .. req.id)
pim.expect_eq(status, 200, "GET roleAssignmentApprovals/{id}")
for _, step in ipairs(approval.steps) do
  print(string.format("  %s: %s by %s at %s: %q", step.displayName, step.reviewResult,
    step.reviewedBy.displayName, step.reviewedDateTime, step.justification))
end
pim.expect_eq(approval.steps[2].reviewedBy.displayName, "Dev Patel", "stage 2 was Dev's")

section("A denial in stage 1 ends the request")
pim.clock.advance("PT2H")
local second = pim.as("alice", function()
  return pim.activate{role = GA, duration = "PT1H", justification = "Another change"}
end)
local denied = pim.as("kenji", function() return pim.deny(second.id, "No change ticket") end)
pim.expect_eq(denied.status, "Denied", "Kenji denies: the request is Denied")
pim.expect_eq(queue("dev"), 0, "and stage 2 never reaches Dev")
