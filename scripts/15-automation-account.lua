-- pimlab run scripts/15-automation-account.lua --demo
--
-- Lesson 15: an automation account and the permissions it holds.
--
-- Contoso's "Nightly Sync Automation" is an application: it calls Microsoft Graph as itself
-- (app-only), with the application permissions an administrator consented to, and no directory
-- role. Every PIM call needs one of the permissions Graph lists for it; without one the service
-- answers 403 with the permissions it would take. This lesson grants the account what it needs
-- to assign eligibilities, and no more, and shows what it still cannot do.

local APP = "Nightly Sync Automation"
local function section(title) print("") print("== " .. title) end
local function assign(principal, role)
  return pim.eligible.assign{principal = principal, role = role, duration = "P90D",
    justification = "Joiner process: quarterly access", app = APP}
end

section("A read permission reads")
pim.app.grant(APP, "RoleManagement.Read.Directory", {application = true})
local eligibilities = pim.eligible.list{app = APP}
print("  the account lists " .. #eligibilities .. " eligibilities")
pim.expect(#eligibilities > 0, "RoleManagement.Read.Directory lets it read eligibilities")

section("It does not write")
local refused = pim.expect_error("UnknownError", function() return assign("ben", "Security Reader") end,
  "an assignment is refused for the missing permission")
print("  " .. refused.code .. ": " .. refused.message)
pim.expect(refused.message:find("RoleEligibilitySchedule.ReadWrite.Directory", 1, true) ~= nil,
  "and the refusal names the permissions that would do")

section("Granted the eligibility permission, it assigns")
pim.app.grant(APP, "RoleEligibilitySchedule.ReadWrite.Directory", {application = true})
local made = assign("ben", "Security Reader")
print("  " .. made.action .. " " .. made.status .. ", created by the application " .. made.createdBy.application.id)
pim.expect_eq(made.status, "Provisioned", "Ben is eligible for Security Reader")

section("What it still cannot do")
pim.expect_error("UnknownError", function()
  return pim.active.assign{principal = "ben", role = "Security Reader", duration = "P1D",
    justification = "Standing access", app = APP}
end, "no active assignments: that is another permission")
pim.app.grant(APP, "RoleAssignmentSchedule.ReadWrite.Directory", {application = true})
pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return pim.activate{role = "Security Reader", duration = "1h", justification = "Run the job", app = APP}
end, "even with the assignment permission, it activates nothing: an application is nobody's eligibility")
pim.app.revoke(APP, "RoleAssignmentSchedule.ReadWrite.Directory", {application = true})
pim.expect_error("UnknownError", function()
  return pim.policy.set("Security Reader", {activation_max = "PT2H", app = APP})
end, "role settings change only for a signed-in administrator")

section("What the account holds")
local shown = pim.app.show(APP)
for _, p in ipairs(shown.permissions) do print("  " .. p.kind .. "  " .. p.permission) end
pim.expect_eq(#shown.appRoleAssignments, 2, "two application permissions, nothing more")
