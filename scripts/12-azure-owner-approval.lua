-- pimlab run scripts/12-azure-owner-approval.lua --demo
--
-- Lesson 12: Owner of the production subscription, only with an approver's yes.
--
-- The riskiest Azure role is Owner at a subscription: it can change anything and grant anything.
-- Here the production subscription's settings for Owner require approval by the change manager
-- (Kenji), and an activation lasts at most two hours. Settings belong to one scope: the resource
-- groups below keep their own (Azure's defaults) until someone changes them, so a request at a
-- resource group does not wait. Over ARM, the waiting request reads as PendingApproval, and the
-- instance appears only once Kenji has approved.

local PROD = "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00"
local function section(title) print("") print("== " .. title) end
local function as(who, fn) return pim.as(who, fn) end

section("The production subscription's settings for Owner")
pim.policy.set("Owner", {scope = "Contoso Production", require_approval = true, approver = "kenji",
  activation_max = "PT2H"})
local policy = pim.policy.show("Owner", PROD)
local approval, expiration
for _, rule in ipairs(policy.rules) do
  if rule.id == "Approval_EndUser_Assignment" then approval = rule end
  if rule.id == "Expiration_EndUser_Assignment" then expiration = rule end
end
pim.expect_eq(approval.setting.isApprovalRequired, true, "activating Owner there needs approval")
pim.expect_eq(expiration.maximumDuration, "PT2H", "and lasts at most two hours")
local rg = pim.policy.show("Owner", "rg-prod-app")
for _, rule in ipairs(rg.rules) do
  if rule.id == "Approval_EndUser_Assignment" then
    pim.expect_eq(rule.setting.isApprovalRequired, false, "the resource groups below keep their own settings")
  end
end

section("Dev is eligible, and asks")
pim.eligible.assign{principal = "dev", role = "Owner", scope = "Contoso Production", duration = "P180D",
  justification = "Platform on-call"}
pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return as("dev", function()
    return pim.activate{role = "Owner", scope = "Contoso Production", duration = "PT4H", justification = "Upgrade"}
  end)
end, "four hours is more than the subscription allows")
local req = as("dev", function()
  return pim.activate{role = "Owner", scope = "Contoso Production", duration = "PT2H",
    justification = "CHG-2042: upgrade the production cluster"}
end)
pim.expect_eq(req.status, "PendingApproval", "two hours waits for Kenji")

section("What ARM shows while it waits")
local function instances()
  local body = pim.arm("GET", PROD .. "/providers/Microsoft.Authorization/roleAssignmentScheduleInstances"
    .. "?api-version=2020-10-01&$filter=assignedTo('" .. pim.principal("dev").id .. "')")
  return #body.value
end
pim.expect_eq(instances(), 0, "nothing is in effect yet")
local waiting = pim.approvals()
pim.expect_eq(#waiting, 1, "one request waits")
pim.expect_eq(waiting[1].approvers[1], pim.principal("kenji").id, "for Kenji")

section("Kenji approves")
pim.expect_error("UnauthorizedAccessException", function()
  return as("lena", function() return pim.approve(req.id, "Looks fine") end)
end, "Lena is not the approver")
local done = as("kenji", function() return pim.approve(req.id, "CHG-2042 approved by the change board") end)
pim.expect_eq(done.status, "Provisioned", "Dev is Owner of the production subscription")
pim.expect_eq(instances(), 1, "and ARM shows the instance")
pim.clock.advance("PT2H")
pim.expect_eq(instances(), 0, "two hours later it has ended")

section("A resource group below does not wait")
local quick = as("dev", function()
  return pim.activate{role = "Owner", scope = "rg-prod-app", duration = "PT1H", justification = "Restart the app"}
end)
pim.expect_eq(quick.status, "Provisioned", "the resource group's own settings ask for no approval")
