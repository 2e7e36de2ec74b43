-- pimlab run scripts/20-replay.lua --demo
--
-- Lesson 20: backtesting a policy change with `replay`.
--
-- "If Global Administrator had required approval this week, which activations would have
-- waited, and for how long?" `pim.replay` answers it without touching the tenant: it plays the
-- week's requests again, at their own times and as their own callers, on a private copy whose
-- settings differ, beside a copy whose settings do not, and reports what changed. An approver's
-- decision is replayed when history has one; otherwise the request waits until its approval
-- expires, or is still waiting at the end. A hook can be tried the same way (`source`:
-- scripts give the source, they cannot read files).

local GA = "Global Administrator"
local function section(title) print("") print("== " .. title) end

section("A week of history")
pim.as("alice", function()
  pim.activate{role = GA, duration = "PT4H", justification = "Rotate signing keys"}
end)
pim.clock.advance("P1D")
pim.as("alice", function() pim.activate{role = GA, justification = "Incident 4711"} end)
pim.clock.advance("PT2H")
pim.as("alice", function() pim.deactivate{role = GA} end)
pim.clock.advance("P4D")
pim.as("alice", function()
  pim.activate{role = GA, duration = "PT1H", justification = "Saturday patching"}
end)
pim.clock.advance("PT1H")

section("Nothing changed: the replay reproduces history")
local same = pim.replay{}
print(("  %d requests replayed, %d reproduced, %d changes"):format(same.replayed, same.reproduced, #same.changes))
pim.expect_eq(#same.changes, 0, "an unchanged replay changes nothing")
pim.expect_eq(same.reproduced, same.replayed, "and reproduces every outcome of history")

section("If " .. GA .. " had required approval by Kenji")
local approval = pim.replay{policy = GA .. ": require-approval=true approver=kenji"}
for _, c in ipairs(approval.changes) do
  print(("  %s %s: %s, %s"):format(c.at, c.action, c.kind, c.detail))
end
pim.expect_eq(approval.totals.waited, 3, "each of Alice's three activations would have waited")

section("If activations had been limited to two hours")
local shorter = pim.replay{policy = GA .. ": activation-max=PT2H"}
pim.expect_eq(shorter.totals.shortened, 2, "the 4-hour and the 8-hour activations are shortened")
for _, c in ipairs(shorter.changes) do print(("  %s %s: %s"):format(c.at, c.kind, c.detail)) end

section("If the weekend freeze had been a hook")
local freeze = pim.replay{source = [[
  return { validate = function(request, ctx)
    local day = os.date("%A")
    if ctx.action == "selfActivate" and (day == "Saturday" or day == "Sunday") then
      return { deny = "WeekendFreeze", message = "no activations at the weekend" }
    end
  end }]]}
pim.expect_eq(freeze.totals.refused, 1, "Saturday's activation is refused")
print("  refused: " .. freeze.changes[1].detail)
pim.expect_eq(#pim.hook.list(), 0, "the hook was tried on the copy only")
