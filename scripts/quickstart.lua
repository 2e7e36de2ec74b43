-- pimlab run scripts/quickstart.lua --demo
--
-- Quickstart: a complete Privileged Identity Management story on the demonstration tenant
-- (Contoso: alice..lena, the groups "Tier-0 Admins", "Helpdesk Tier 1", "PIM Approvers" and
-- "All Staff"). Each section prints what happens and why; every "ok -" line is a check the
-- script makes on itself, and the last line says how many passed. The clock is simulated (it
-- starts on Monday 2025-01-06 at 09:00 UTC) and ids come from a seed, so every run prints the
-- same thing. The other scripts in this folder take one lesson each further.

local GA, SECURITY = "Global Administrator", "Security Administrator"
local function section(title) print("") print("== " .. title) end

section("1. Nobody holds Global Administrator by default: Alice is only eligible")
local elig = pim.eligible.list{principal = "alice", role = GA}
pim.expect_eq(#elig, 1, "Alice is eligible for Global Administrator")
print("her eligibility lasts " .. elig[1].scheduleInfo.expiration.duration .. " from "
  .. elig[1].scheduleInfo.startDateTime)
pim.expect_eq(#pim.active.list{principal = "alice", now = true}, 0, "she holds no active role")

section("2. Activating checks the role's policy, and reports every broken rule at once")
local refused = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return pim.as("alice", function()
    return pim.activate{role = GA, duration = "PT12H"}
  end, {mfa = false})
end, "12 hours, without MFA, without a reason: refused")
for _, d in ipairs(refused.details) do print("  " .. d.code .. ": " .. d.message) end
pim.expect_eq(table.concat(refused.rules, ","), "ExpirationRule,MfaRule,JustificationRule",
  "three rules failed in one answer")
local activation = pim.as("alice", function()
  return pim.activate{role = GA, duration = "PT2H", justification = "Rotate the federation signing certificate"}
end)
pim.expect_eq(activation.status, "Provisioned", "with MFA, a justification and 2 hours: granted")
print("active until " .. pim.active.list{principal = "alice", now = true}[1].endDateTime)

section("3. Microsoft Graph sees the same tenant")
local body, status = pim.graph("GET", "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances"
  .. "?$filter=assignmentType eq 'Activated'&$select=principalId,roleDefinitionId,endDateTime")
pim.expect_eq(status, 200, "GET roleAssignmentScheduleInstances answers 200")
pim.expect_eq(#body.value, 1, "one activation is in effect")
pim.expect_eq(body.value[1].principalId, pim.principal("alice").id, "it is Alice's")

section("4. Security Administrator requires approval by the PIM Approvers group")
pim.policy.set(SECURITY, {require_approval = true, approver = {"PIM Approvers"}})
local ask = pim.as("chloe", function()
  return pim.activate{role = SECURITY, duration = "PT1H", justification = "Investigate alert 7731"}
end)
pim.expect_eq(ask.status, "PendingApproval", "Chloe's activation waits for an approver")
local waiting = pim.as("kenji", function() return pim.approvals{mine = true} end)
pim.expect_eq(#waiting, 1, "Kenji, a member of PIM Approvers, sees it in his queue")
local self = pim.expect_error("UnauthorizedAccessException", function()
  return pim.as("chloe", function() return pim.approve(ask.id, "Looks fine to me") end)
end, "Chloe cannot approve her own request")
print("  " .. self.details[1].code .. ": " .. self.details[1].message)
local approved = pim.as("kenji", function() return pim.approve(ask.id, "Alert 7731 confirmed by the SOC") end)
pim.expect_eq(approved.status, "Provisioned", "Kenji approves: the role is Chloe's for an hour")
local mails = pim.notifications{to = "chloe"}
print("Chloe's latest mail: " .. mails[#mails].subject)

section("5. Time passes on the simulated clock: activations expire by themselves")
local report = pim.clock.advance("PT3H")
print(report.from .. " -> " .. report.to .. ": " .. report.expired .. " activations expired")
pim.expect_eq(report.expired, 2, "Alice's and Chloe's activations ended")
pim.expect_eq(#pim.active.list{principal = "alice", now = true}, 0, "Alice is back to eligible only")

section("6. A policy hook: a rule real PIM cannot express")
-- Hooks are Lua too: validate() may deny with a rule name and a message, and os.date reads the
-- simulated clock. The same text ships as scripts/hooks/weekend-freeze.lua for `pimlab hook add`.
pim.hook.add("weekend-freeze", [[
-- Weekend freeze: nobody activates a privileged role on a Saturday or a Sunday (UTC).
--   pimlab hook add weekend-freeze --file scripts/hooks/weekend-freeze.lua
-- Add --role "Global Administrator" to freeze one role only. Administrators' own actions
-- (adminAssign, adminRemove, ...) are not frozen: the hook judges activations only.
return {
  validate = function(request, ctx)
    if ctx.action ~= "selfActivate" or not ctx.role.isPrivileged then
      return nil
    end
    local day = os.date("%A") -- os.date reads the simulated clock
    if day == "Saturday" or day == "Sunday" then
      return {
        deny = "WeekendFreeze",
        message = ctx.role.displayName .. " cannot be activated on a " .. day .. "; ask again on Monday",
      }
    end
  end,
}
]], {role = GA})
pim.clock.set("2025-01-11T10:00:00Z")
print("it is " .. os.date("%A %H:%M", os.time()) .. " UTC")
local frozen = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return pim.as("alice", function()
    return pim.activate{role = GA, duration = "PT1H", justification = "Weekend incident"}
  end)
end, "Saturday: the hook refuses Global Administrator")
pim.expect_eq(frozen.rules[1], "WeekendFreeze", "the hook's rule is named in the error")
print("  " .. frozen.details[1].message)
pim.clock.set("2025-01-13T08:00:00Z")
local monday = pim.as("alice", function()
  return pim.activate{role = GA, duration = "PT1H", justification = "Follow up the weekend incident"}
end)
pim.expect_eq(monday.status, "Provisioned", os.date("%A") .. ": allowed again")

section("7. Everything is on the record")
for _, step in ipairs(pim.explain(monday.id).trace) do
  print(string.format("  %-4s %-58s %s", step.passed and "pass" or "FAIL", step.check, step.seen))
end
local audit = pim.audit{role = GA}
print("the last three audit entries for Global Administrator:")
for i = #audit - 2, #audit do
  print("  " .. audit[i].activityDateTime .. "  " .. audit[i].activityDisplayName .. "  (" .. audit[i].result .. ")")
end
pim.expect_eq(audit[#audit - 1].result, "failure", "the refused weekend request left an audit row")
