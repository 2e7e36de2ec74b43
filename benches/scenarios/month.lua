-- pimlab run benches/scenarios/month.lua
--
-- The workload of `cargo bench --bench scenario` (and of the README's scripting figure): 500
-- users, each eligible for Helpdesk Administrator, activate it once a day for 30 simulated days
-- (15,000 activations), then the month's expiries run. One line per day would drown the figure,
-- so the script prints only its totals; `pim.expect` makes it check its own result.

local USERS, DAYS = 500, 30
local ROLE = "Helpdesk Administrator"

local users = {}
for i = 1, USERS do
  local u = pim.user(string.format("Month User %03d", i))
  users[i] = u.id
  pim.eligible.assign{principal = u.id, role = ROLE, duration = "P60D", justification = "Helpdesk rota"}
end

local granted = 0
for day = 1, DAYS do
  for i = 1, USERS do
    local r = pim.as(users[i], function()
      return pim.activate{role = ROLE, duration = "PT1H", justification = "Password resets for the desk"}
    end)
    if r.status == "Provisioned" then granted = granted + 1 end
  end
  pim.clock.advance("P1D")
end

pim.expect_eq(granted, USERS * DAYS, "every activation was granted")
pim.expect_eq(#pim.active.list{role = ROLE, now = true}, 0, "and every one has expired")
