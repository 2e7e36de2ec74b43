-- pimlab run scripts/03-expiry-renewal.lua --demo
--
-- Lesson 3: a time-bound eligibility that expires, and how it comes back.
--
-- Eligibilities and assignments can end on a date. PIM warns the holder 14 days and 1 day before,
-- and again when it ends. In the portal two windows matter, for administrators and holders
-- alike: an *extension* may be asked for only within the last 14 days before the end
-- (`selfExtend`, answered by an administrator's `adminExtend`), and a *renewal* only after it
-- has ended, for 30 days (`selfRenew`, answered by `adminRenew` or by approving the request).
-- After those 30 days only a new assignment brings the role back.
--
-- The Graph API was never seen to enforce either window, so pimlab does not by default. This
-- lesson follows the portal: it turns on the fidelity switch `portal-extend-renew-windows`
-- (`pimlab config fidelity set portal-extend-renew-windows on` on the command line), and at the
-- end turns it off again to show what a Graph client can do.

local EXO = "Exchange Administrator"
local function section(title) print("") print("== " .. title) end
local function as(who, fn) return pim.as(who, fn) end
local function mails(who)
  local subjects = {}
  for _, n in ipairs(pim.notifications{to = who}) do
    if n.subject:find(EXO, 1, true) then subjects[#subjects + 1] = n.dateTime .. "  " .. n.subject end
  end
  return subjects
end

section("The portal's windows, turned on for this lesson")
pim.fidelity.set("portal-extend-renew-windows", true)
for _, switch in ipairs(pim.fidelity.show()) do print(("  %-28s %s"):format(switch.name, switch.on and "on" or "off")) end

section("Emma and Hugo are made eligible for 30 days")
for _, who in ipairs({"emma", "hugo"}) do
  local r = pim.eligible.assign{principal = who, role = EXO, duration = "P30D", justification = "Mailbox migration"}
  pim.expect_eq(r.status, "Provisioned", who .. " is eligible until 2025-02-05")
end

section("Too early to extend, too early to renew")
local e = pim.expect_error("PimlabExtendWindowNotOpen", function()
  return pim.eligible.extend{principal = "emma", role = EXO, duration = "P90D", justification = "More time"}
end, "an extension is refused 30 days before the end")
print("  " .. e.details[1].message)
e = pim.expect_error("RoleAssignmentExists", function()
  return as("emma", function() return pim.renew{role = EXO, justification = "Keep it"} end)
end, "a renewal is refused while the eligibility still runs")
print("  " .. e.details[1].message)

section("Time passes: warnings, then the end")
local report = pim.clock.advance("P31D")
for _, event in ipairs(report.events) do
  if event:find("Emma Fischer", 1, true) then print("  " .. event) end
end
for _, line in ipairs(mails("emma")) do print("  mail: " .. line) end
pim.expect_eq(#pim.eligible.list{principal = "emma", role = EXO}, 0, "Emma's eligibility has ended")
e = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return as("emma", function() return pim.activate{role = EXO, duration = "PT1H", justification = "Migrate"} end)
end, "she can no longer activate")
pim.expect_eq(e.rules[1], "EligibilityRule", "because she is not eligible any more")

section("Emma asks for a renewal; an administrator grants it")
local ask = as("emma", function() return pim.renew{role = EXO, justification = "The migration runs another quarter"} end)
pim.expect_eq(ask.action, "selfRenew", "a selfRenew request")
pim.expect_eq(ask.status, "PendingAdminDecision", "waits for an administrator")
pim.expect_eq(pim.approvals()[1].id, ask.id, "administrators see it among the approvals")
local renewed = pim.eligible.renew{principal = "emma", role = EXO, duration = "P90D", justification = "Approved for Q2"}
pim.expect_eq(renewed.action, "adminRenew", "the administrator answers with adminRenew")
pim.expect_eq(pim.request(ask.id).status, "Provisioned", "which carries out Emma's request")
local elig = pim.eligible.list{principal = "emma", role = EXO}[1]
pim.expect_eq(elig.scheduleInfo.expiration.duration, "P90D", "Emma is eligible again, for 90 days")
local activation = as("emma", function()
  return pim.activate{role = EXO, duration = "PT1H", justification = "Migrate the sales mailboxes"}
end)
pim.expect_eq(activation.status, "Provisioned", "and activates")

section("Hugo waits too long")
pim.clock.advance("P30D")
e = pim.expect_error("PimlabRenewWindowClosed", function()
  return as("hugo", function() return pim.renew{role = EXO, justification = "Back from leave"} end)
end, "31 days after the end, renewal is closed")
print("  " .. e.details[1].message)
pim.expect_error("PimlabRenewWindowClosed", function()
  return pim.eligible.renew{principal = "hugo", role = EXO, duration = "P30D", justification = "Back from leave"}
end, "for administrators too")
local fresh = pim.eligible.assign{principal = "hugo", role = EXO, duration = "P30D", justification = "New assignment"}
pim.expect_eq(fresh.action, "adminAssign", "only a new assignment brings it back")

section("Extending in time")
pim.clock.advance("P20D")
local ext = as("hugo", function() return pim.extend{role = EXO, justification = "Project runs late"} end)
pim.expect_eq(ext.status, "PendingAdminDecision", "10 days before the end Hugo asks for an extension")
local granted = pim.approve(ext.id, "Extension agreed with the project lead")
pim.expect_eq(granted.status, "Provisioned", "an administrator approves it")
local until_ = pim.eligible.list{principal = "hugo", role = EXO}[1].scheduleInfo.expiration.endDateTime
pim.expect_eq(until_, "2025-05-07T09:00:00Z", "without a date given, as long again: 30 days past the old end")

section("Without the portal's windows: what a Graph client may do")
pim.fidelity.set("portal-extend-renew-windows", false)
local early = pim.eligible.extend{principal = "hugo", role = EXO, duration = "P90D", justification = "Plan ahead"}
print("  now " .. pim.clock.now() .. "; Hugo's eligibility ends " .. until_)
pim.expect_eq(early.status, "Provisioned", "with the switch off, an extension 40 days before the end is accepted")
