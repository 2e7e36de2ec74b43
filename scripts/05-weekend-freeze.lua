-- pimlab run scripts/05-weekend-freeze.lua --demo --at 2025-01-10T16:00:00Z
--
-- Lesson 5: a custom rule real PIM cannot express, as a policy hook: no activation of a
-- privileged role at weekends.
--
-- A hook is a Lua table of handlers; `validate(request, ctx)` runs before the built-in checks of
-- every request for the roles it is attached to, and may return {deny = RULE, message = TEXT}.
-- A denial is reported in the same error as any built-in rule that also failed. Inside a hook,
-- os.date() and os.time() read the simulated clock, so the rule can be tried on any day: this
-- script starts on Friday 2025-01-10 at 16:00 (`--at`). The hook below is the same text as
-- scripts/hooks/weekend-freeze.lua, for `pimlab hook add weekend-freeze --file ...`.

local GA = "Global Administrator"
local WEEKEND_FREEZE = [[
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
]]
local function section(title) print("") print("== " .. title .. " (" .. os.date("%A %Y-%m-%d %H:%M") .. ")") end
local function activate(who, role, reason)
  return pim.as(who, function() return pim.activate{role = role, duration = "PT1H", justification = reason} end)
end

section("The hook is attached to every role")
local added = pim.hook.add("weekend-freeze", WEEKEND_FREEZE)
pim.expect_eq(added.handlers[1], "validate", "it handles validate")
pim.expect_eq(pim.hook.list()[1].role, nil, "it is not limited to one role")
pim.expect_eq(activate("alice", GA, "Friday patching").status, "Provisioned", "Friday: Alice activates")

pim.clock.set("2025-01-11T10:00:00Z")
section("Saturday")
local e = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return activate("alice", GA, "Weekend incident")
end, "Alice is refused")
pim.expect_eq(table.concat(e.rules, ","), "WeekendFreeze", "by the hook's rule")
print("  " .. e.details[1].message)
e = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return pim.as("alice", function() return pim.activate{role = GA, duration = "PT10H"} end)
end, "a request that also breaks built-in rules")
pim.expect_eq(table.concat(e.rules, ","), "WeekendFreeze,ExpirationRule,JustificationRule",
  "gets the hook's denial and the built-in failures in one error")
pim.expect_eq(activate("grace", "Exchange Administrator", "Mail flow outage").status, "Provisioned",
  "Exchange Administrator is not a privileged role: Grace may activate it")
local assigned = pim.active.assign{principal = "dev", role = GA, duration = "PT4H", justification = "Emergency, approved by the CISO"}
pim.expect_eq(assigned.status, "Provisioned", "an administrator can still assign the role directly")
local audit = pim.audit{principal = "alice", role = GA}
pim.expect_eq(audit[#audit].result, "failure", "refusals are audited")
print("  audit: " .. audit[#audit].activityDisplayName .. ": " .. audit[#audit].resultReason)

pim.clock.advance("P1D")
section("Sunday: a dry run with hook test")
local dry = pim.as("alice", function()
  return pim.hook.test("weekend-freeze", {
    action = "selfActivate", principalId = pim.principal("alice").id,
    roleDefinitionId = pim.role.show(GA).id, directoryScopeId = "/",
    justification = "Just checking",
    scheduleInfo = {expiration = {type = "afterDuration", duration = "PT1H"}},
  })
end)
pim.expect_eq(dry.handlers[1].handler, "validate", "hook test runs the validate handler")
pim.expect_eq(dry.outcome.error.code, "RoleAssignmentRequestPolicyValidationFailed", "and says the request would be refused")
pim.expect_eq(#pim.requests{principal = "alice", status = "Provisioned", kind = "active"}, 1,
  "nothing was stored: Alice still has only Friday's activation")

pim.clock.set("2025-01-13T08:00:00Z")
section("Monday morning")
pim.expect_eq(activate("alice", GA, "Post-incident review").status, "Provisioned", "Alice activates again")

section("Detaching the hook lifts the rule")
pim.hook.remove("weekend-freeze")
pim.expect_eq(#pim.hook.list(), 0, "no hook is attached")
pim.clock.set("2025-01-18T09:00:00Z")
print("it is " .. os.date("%A %H:%M"))
pim.expect_eq(activate("alice", GA, "Saturday without the freeze").status, "Provisioned",
  "the next Saturday, Alice activates")
