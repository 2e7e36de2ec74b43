-- pimlab run scripts/04-last-global-admin.lua
--
-- Lesson 4: nobody can lock the tenant out by removing its last Global Administrator.
--
-- A new tenant has one permanent Global Administrator, the break-glass account (pimlab's default
-- caller). PIM refuses to remove the last active Global Administrator assignment, whoever asks
-- and through whichever surface, and it does not let the last one expire either: the schedule
-- is kept past its end date, with an audit row saying so. Activations are never protected (the
-- eligibility behind them remains). The way out is always the same: assign another Global
-- Administrator first. This script builds its own world, so it runs without --demo.

local GA = "Global Administrator"
local BREAK_GLASS = "breakglass@contoso.example"
local function section(title) print("") print("== " .. title) end
-- Reading everyone's assignments needs a role that may read them: the break-glass account's, as
-- long as it holds one, then the current Global Administrator's.
local reader = BREAK_GLASS
local function read(fn) return pim.as(reader, fn) end
local function holders()
  local names = {}
  for _, a in ipairs(read(function() return pim.active.list{role = GA, now = true} end)) do
    names[#names + 1] = pim.principal(a.principalId).displayName .. (a.endDateTime and (" until " .. a.endDateTime) or " (permanent)")
  end
  return names
end

section("A fresh tenant: one Global Administrator")
print("holders: " .. table.concat(holders(), ", "))
pim.expect_eq(#holders(), 1, "only the break-glass account")
pim.clock.advance("PT1H")
local e = pim.expect_error("PimlabLastGlobalAdministrator", function()
  return pim.active.remove{principal = BREAK_GLASS, role = GA, justification = "Tidy up"}
end, "removing it is refused")
print("  " .. e.details[1].message)
local id = pim.active.list{role = GA, now = true}[1].id
local body, status = pim.graph("DELETE", "/roleManagement/directory/roleAssignments/" .. id)
pim.expect_eq(status, 400, "Graph DELETE of its role assignment is refused too")
pim.expect_eq(body.error.code, "PimlabLastGlobalAdministrator", "with the same code")

section("A second administrator, for one week")
pim.user("Sam Okafor")
local sam = pim.active.assign{principal = "Sam Okafor", role = GA, duration = "P7D", justification = "Platform owner"}
pim.expect_eq(sam.status, "Provisioned", "Sam is an active Global Administrator until 2025-01-13")
pim.clock.advance("PT10M")
local removed = pim.active.remove{principal = BREAK_GLASS, role = GA, justification = "Retire the shared account"}
pim.expect_eq(removed.status, "Revoked", "now the break-glass account can be removed")
reader = "Sam Okafor"
print("holders: " .. table.concat(holders(), ", "))

section("Sam is the last one")
e = pim.expect_error("PimlabLastGlobalAdministrator", function()
  return pim.as("Sam Okafor", function()
    return pim.active.remove{principal = "Sam Okafor", role = GA, justification = "Leaving the team"}
  end)
end, "Sam cannot remove himself")
print("  " .. e.details[1].message)

section("His week ends, and his assignment is kept")
local report = pim.clock.advance("P8D")
for _, event in ipairs(report.events) do print("  " .. event) end
pim.expect_eq(report.expired, 0, "nothing expired")
pim.expect_eq(#holders(), 1, "Sam is still Global Administrator")
pim.expect_eq(read(function() return pim.active.list{role = GA, now = true} end)[1].endDateTime, nil,
  "with no end date any more")
local audit = pim.audit{role = GA}
pim.expect_eq(audit[#audit].activityDisplayName, "Keep member in role in PIM (last Global Administrator)",
  "the audit trail says why")

section("Activations are not protected")
-- The break-glass account holds nothing now, so administrative actions run as Sam.
pim.as("Sam Okafor", function()
  pim.user("Rita Gomez")
  return pim.eligible.assign{principal = "Rita Gomez", role = GA, duration = "P90D", justification = "Deputy"}
end)
local act = pim.as("Rita Gomez", function()
  return pim.activate{role = GA, duration = "PT1H", justification = "Cover for Sam"}
end)
pim.expect_eq(act.status, "Provisioned", "Rita activates for an hour")
report = pim.clock.advance("PT2H")
pim.expect_eq(report.expired, 1, "her activation expires as usual")
pim.expect_eq(#read(function() return pim.eligible.list{principal = "Rita Gomez", role = GA} end), 1,
  "her eligibility remains")

section("The way out: assign another one first")
pim.as("Sam Okafor", function()
  return pim.active.assign{principal = "Rita Gomez", role = GA, permanent = true, justification = "Second admin"}
end)
print("holders: " .. table.concat(holders(), ", "))
local gone = pim.as("Rita Gomez", function()
  return pim.active.remove{principal = "Sam Okafor", role = GA, justification = "Sam leaves the team"}
end)
pim.expect_eq(gone.status, "Revoked", "with Rita in place, Sam's assignment can go")
reader = "Rita Gomez"
pim.expect_eq(#holders(), 1, "and there is still exactly one Global Administrator")
