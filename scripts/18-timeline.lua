-- pimlab run scripts/18-timeline.lua --demo
--
-- Lesson 18: a week of privilege, as numbers and as a picture.
--
-- A trainer plays a week: activations, an approval that waits, a request the service refuses,
-- one an approver denies, a PIM for Groups membership that gives its members a role (the group
-- chain), activations that expire. `pim.report.activity` counts it (by role, principal or day):
-- activations, refusals (read back from the audit trail: a refused request leaves nothing else),
-- denials, approvals and how long they waited, the most holders at once, and hours of standing
-- against just-in-time privilege. `pim.timeline` draws it: a script cannot write files, so it gets
-- the SVG back as text (the command line writes FILE.svg or FILE.html with `--out`).

local function section(title) print("") print("== " .. title) end

section("A week")
pim.policy.set("Security Administrator", {require_approval = true, approver = {"kenji"}})
pim.group("Security Desk", {role_assignable = true})
pim.active.assign{principal = "Security Desk", role = "Security Reader", permanent = true, justification = "The desk reads reports"}
pim.eligible.assign{principal = "ben", group = "Security Desk", access = "member", duration = "P90D", justification = "On the rota"}
pim.activate{as = "alice", role = "Global Administrator", duration = "PT2H", justification = "INC-1001 mailbox"}
local waiting = pim.activate{as = "chloe", role = "Security Administrator", duration = "PT4H", justification = "Alert review"}
local ok, refusal = pcall(pim.activate, {as = "lena", role = "Global Reader", duration = "PT12H", justification = "All day"})
pim.expect(not ok, "twelve hours is more than Global Reader allows")
print("  refused: " .. refusal.code)
pim.activate{as = "ben", group = "Security Desk", access = "member", duration = "PT2H", justification = "Triage"}
pim.clock.advance("PT3H")
pim.as("kenji", function() return pim.approve(waiting.id, "Go ahead") end)
pim.clock.advance("P6DT21H")

section("The numbers, by role")
local week = pim.report.activity{by = "role"}
for _, r in ipairs(week.rows) do
  if r.activations + r.refused + r.denied > 0 then
    local wait = r.approvalWait and (", waited " .. r.approvalWait.max) or ""
    print(string.format("  %-28s %d activation(s), %d refused%s, %.2f h just in time", r.key, r.activations, r.refused, wait, r.jitHours))
  end
end
pim.expect_eq(week.total.activations, 3, "alice, chloe and ben activated")
pim.expect_eq(week.total.refused, 1, "lena's request left only its audit row, and the report found it")
pim.expect_eq(week.total.jitHours, 8.0, "2 h + 4 h + 2 h of just-in-time privilege")
local days = pim.report.activity{by = "day"}
pim.expect_eq(#days.rows, 8, "a row per day, Monday to the next Monday morning")
pim.expect_eq(days.rows[1].activations, 3, "all on Monday")

section("The picture")
local picture = pim.timeline{role = "Security Administrator"}
for _, lane in ipairs(picture.lanes) do
  local kinds = {}
  for _, m in ipairs(lane.marks) do kinds[#kinds + 1] = m.kind end
  print("  " .. lane.label .. ": " .. table.concat(kinds, ", "))
end
pim.expect(picture.svg:find("^<svg") ~= nil, "the SVG comes back as text")
pim.expect(picture.svg:find('class="mark waiting"', 1, true) ~= nil, "chloe's request waited for kenji")
local ok_write, e = pcall(pim.timeline, {out = "week.svg"})
pim.expect(not ok_write and e.message:find("scripts cannot write files", 1, true) ~= nil, "a script writes no file")
