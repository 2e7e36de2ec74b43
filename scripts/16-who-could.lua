-- pimlab run scripts/16-who-could.lua --demo
--
-- Lesson 16: who holds a role, and who could.
--
-- "Who are our Security Readers?" has two answers. Who holds the role now: an active assignment,
-- on the person or on a group they belong to. And who could hold it without asking an
-- administrator: whoever is eligible, directly, through a role-assignable group, through an
-- eligible PIM for Groups membership of a group that holds the role, or (for an Azure role)
-- at a scope above the one asked about. `pim.who` follows every chain and says what stands in
-- the way of each: approval and by whom, MFA, a ticket, the longest activation, the hooks that
-- would run. `--at` asks the same of the past (history) or of the future (the schedules made).

local GROUP, ROLE = "Security Desk", "Security Reader"
local function section(title) print("") print("== " .. title) end
local function names(report, list)
  local out = {}
  for _, h in ipairs(report[list or "holders"]) do
    out[#out + 1] = h.principal.name:match("^[^@]+") .. " (" .. h.holds .. ")"
  end
  return table.concat(out, ", ")
end

section("Who holds " .. ROLE .. " today")
pim.group(GROUP, {role_assignable = true})
pim.active.assign{principal = GROUP, role = ROLE, permanent = true, justification = "The desk reads security reports"}
pim.eligible.assign{principal = "ben", group = GROUP, access = "member", duration = "P90D", justification = "On the rota"}
pim.policy.set("member", {group = GROUP, require_approval = true, approver = {"kenji"}})
local now = pim.who(ROLE)
print("  holds: " .. names(now))
pim.expect_eq(names(now), "chloe (active)", "only Chloe holds it: the desk has no members yet")

section("Who could hold it, and what stands in the way")
local could = pim.who(ROLE, {could = true})
print("  could: " .. names(could))
local ben = could.holders[1]
pim.expect_eq(ben.via.group.membership, "pimEligible", "Ben could: he is eligible to join the desk")
for _, o in ipairs(ben.obstacles) do
  local who = o.approvers and (" by " .. o.approvers[1].name) or ""
  print("  in Ben's way (" .. o.on .. "): " .. o.kind .. who)
end
pim.expect_eq(ben.obstacles[1].kind, "approval", "joining needs an approval")
pim.expect_eq(ben.obstacles[1].approvers[1].name, "kenji@contoso.example", "Kenji's")

section("An Azure eligibility above the scope asked about is inherited")
pim.eligible.assign{principal = "isla", role = "Owner", scope = "Contoso Production", duration = "P90D", justification = "On call"}
local rg = pim.who("Owner", {scope = "rg-prod-app", could = true})
print("  Owner at rg-prod-app: " .. names(rg) .. ", from " .. rg.holders[1].via.scope)
pim.expect(rg.holders[1].via.inherited, "Isla's eligibility at the subscription covers its resource groups")
pim.expect_eq(#pim.who("Owner", {scope = "rg-dev-app", could = true}).holders, 0, "but not another subscription's")

section("The past and the future")
local before = pim.clock.now()
pim.clock.advance("PT1H")
pim.eligible.remove{principal = "chloe", role = "Security Administrator", justification = "Moved teams"}
pim.expect_eq(#pim.who("Security Administrator", {could = true}).holders, 0, "nobody could, now")
local then_ = pim.who("Security Administrator", {could = true, at = before})
print("  at " .. before .. ": " .. names(then_) .. " until " .. then_.holders[1].window["end"])
pim.expect_eq(names(then_), "chloe (eligible)", "history remembers Chloe")
pim.eligible.assign{principal = "grace", role = "Security Administrator", start = "2025-02-01T00:00:00Z",
  duration = "P30D", justification = "Joins the SOC in February"}
local february = pim.who("Security Administrator", {could = true, at = "2025-02-10T00:00:00Z"})
print("  on 2025-02-10: " .. names(february))
pim.expect_eq(names(february), "grace (eligible)", "the future holds the schedules already made")

section("The same from Ben's side")
for _, h in ipairs(pim.access("ben").holdings) do
  print("  " .. h.role.name .. " (" .. h.holds .. ")" .. (h.via.group and (" through " .. h.via.group.group.name) or ""))
end
pim.expect_eq(#pim.access("ben").holdings, 2, "Helpdesk Administrator through his team, Security Reader through the desk")
