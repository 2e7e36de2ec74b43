-- pimlab run scripts/19-whatif.lua --demo
--
-- Lesson 19: what would this change? A scenario as a what-if.
--
-- Any scenario can be asked "what if?": `pimlab whatif scripts/19-whatif.lua` runs it on a
-- private copy of your store (`--db`) and prints who would gain and who would lose which
-- privilege, when, and why, from the store's clock to where the scenario moved the clock. The
-- store itself is not touched. This lesson is such a scenario: the night shift gets a
-- role-assignable group that reads security reports for a day, Isla becomes eligible for Owner of
-- the production subscription, and Alice's activation of Global Administrator now needs an
-- approval. Run it with `pimlab run` to check it, with `pimlab whatif` to see its effect on your
-- store. A script itself never opens, forks or compares stores: that is the terminal's job.

local GROUP = "Night Shift"
local function section(title) print("") print("== " .. title) end
local function names(report)
  local out = {}
  for _, h in ipairs(report.holders) do out[#out + 1] = h.principal.name:match("^[^@]+") end
  return table.concat(out, ", ")
end

section("The night shift reads security reports for a day")
pim.group(GROUP, {role_assignable = true, members = {"ben", "emma"}})
pim.active.assign{principal = GROUP, role = "Security Reader", duration = "P1D", justification = "Night shift"}
local readers = pim.who("Security Reader")
print("  Security Readers now: " .. names(readers))
pim.expect_eq(#readers.holders, 3, "Chloe, and Ben and Emma through the group")

section("Isla becomes eligible for Owner of production")
pim.eligible.assign{principal = "isla", role = "Owner", scope = "Contoso Production", duration = "P90D", justification = "On call"}
local owners = pim.who("Owner", {scope = "rg-prod-app", could = true})
pim.expect(owners.holders[1].via.inherited, "held at the resource group, inherited from the subscription")

section("Global Administrator now needs an approval")
pim.policy.set("Global Administrator", {require_approval = true})
local ask = pim.as("alice", function()
  return pim.activate{role = "Global Administrator", duration = "PT1H", justification = "Change 12"}
end)
print("  Alice's activation: " .. ask.status)
pim.expect_eq(ask.status, "PendingApproval", "a request waiting is not a privilege yet")

section("A day later the group's day is over")
pim.clock.advance("P1D")
pim.expect_eq(#pim.who("Security Reader").holders, 1, "only Chloe again")

section("A script cannot fork or compare stores")
local ok, err = pcall(pim.run, "fork copy.db")
print("  " .. tostring(err.message or err))
pim.expect(not ok, "forking is for the terminal: `pimlab fork NEW.db`")
