-- pimlab run scripts/21-properties.lua --demo
--
-- Lesson 21: properties over time.
--
-- "Never more than four Global Administrators" is a rule about every moment, not about now. A
-- property is a Lua function of the tenant as it was at one instant (`t.principals`, `t.holders`,
-- `t.holds`, ...); `pim.check` judges it at every instant the store's history changes something
-- (a request, an approval, a schedule starting or ending) and gives the first one that broke it,
-- with the events that led there. `pim.fuzz` goes looking for trouble instead: random valid
-- steps on a private copy of the store, and when a property breaks, the shortest steps that still
-- break it, as a script. The command line does the same from a file:
-- `pimlab check scripts/props/global-admins.lua`, `pimlab fuzz --props FILE`.

local function section(title) print("") print("== " .. title) end

local PROPERTIES = [[
property("at most 4 Global Administrators", function(t)
  local holders = t.principals("Global Administrator")
  return #holders <= 4, #holders .. " hold it"
end)
]]

section("A quiet morning: the property holds")
local quiet = pim.check(PROPERTIES)
local verdict = quiet.properties[1]
print("  " .. verdict.name .. ": " .. verdict.status .. " at each of " .. quiet.instants .. " instants")
pim.expect_eq(verdict.status, "held", "the demo tenant never has more than four")

section("A group brings four more at 11:00")
pim.group("GA Team", {role_assignable = true, members = {"dev", "emma", "farid", "grace"}})
pim.clock.advance("PT2H")
pim.active.assign{principal = "GA Team", role = "Global Administrator", duration = "PT4H",
  justification = "Tenant migration"}
local after = pim.check(PROPERTIES).properties[1]
print("  " .. after.name .. ": " .. after.status .. " at " .. after.at .. " (" .. after.message .. ")")
for _, e in ipairs(after.events) do
  print("    " .. e.at .. "  " .. (e.actor or "the clock") .. ": " .. e.what)
end
pim.expect_eq(after.status, "violated", "the group's assignment breaks it")
pim.expect_eq(after.at, pim.clock.now(), "at the instant the group got the role")

section("Four hours later the assignment has ended, but history remembers")
pim.clock.advance("PT5H")
local later = pim.check(PROPERTIES).properties[1]
pim.expect_eq(later.at, after.at, "the first violation is still the first")
print("  first violated at " .. later.at)

section("Fuzzing: who else could break it?")
-- A tighter rule, so that a few random steps can break it.
local found = pim.fuzz{seed = 3, steps = 200, source = [[
property("only the break-glass account holds Global Administrator", function(t)
  return #t.principals("Global Administrator") <= 1
end)
]]}
local v = found.violation
pim.expect(v ~= nil, "random steps find a second Global Administrator")
print("  violated after step " .. v.afterStep .. " of " .. found.steps .. "; the shortest steps that still do it:")
for i, step in ipairs(v.shrunk) do print("    " .. i .. ". " .. (step.by or "the administrator") .. " " .. step.does) end
pim.expect(#v.shrunk <= 5, "shrunk to a handful of steps")
