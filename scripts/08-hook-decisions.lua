-- pimlab run scripts/08-hook-decisions.lua --demo
--
-- Lesson 8: every kind of hook decision, how several hooks combine, and what happens when a
-- hook is broken.
--
-- A hook's `validate` may deny, require approval ({approval = true, approvers = {...}}) or
-- shorten the duration ({duration = "PT1H"}); `route` adds or replaces the approvers of a
-- request that waits for approval; `completed` observes the outcome and may record a note or
-- send a notification. Hooks run in the order they were added (`hook list`); the first denial
-- wins; the shortest duration wins. Every decision shows in `request explain`. A hook that
-- errors, loops or returns something that is not a decision makes the request fail closed
-- (PimlabHookFailed, naming the hook and the line) and changes nothing. The four hooks below
-- are the same text as the files in scripts/hooks/, for `pimlab hook add`.

local GA = "Global Administrator"
local AFTER_HOURS_LIMIT = [[
-- After hours, activations are short: outside Monday to Friday, 08:00 to 18:00 UTC, an
-- activation lasts at most one hour, whatever was asked for (a hook may shorten a request,
-- never lengthen it, and never beyond the role's own maximum).
--   pimlab hook add after-hours-limit --file scripts/hooks/after-hours-limit.lua
return {
  validate = function(request, ctx)
    if ctx.action ~= "selfActivate" then
      return nil
    end
    local now = os.date("*t") -- the simulated clock; wday 1 is Sunday
    local weekday = now.wday >= 2 and now.wday <= 6
    if not (weekday and now.hour >= 8 and now.hour < 18) then
      return { duration = "PT1H" }
    end
  end,
}
]]
local LONG_ACTIVATION_APPROVAL = [[
-- Long activations need a second pair of eyes: an activation of more than two hours (or one
-- that asks for no duration, and so gets the role's maximum) waits for the PIM Approvers group.
--   pimlab hook add long-activation-approval --file scripts/hooks/long-activation-approval.lua --role "Global Administrator"
local function minutes(iso) -- "PT1H30M" -> 90, "P1D" -> 1440; nil when there is none
  if type(iso) ~= "string" or iso:sub(1, 1) ~= "P" then
    return nil
  end
  local time = iso:match("T(.*)$") or ""
  local days = tonumber(iso:match("^P(%d+)D")) or 0
  local hours = tonumber(time:match("(%d+)H")) or 0
  local mins = tonumber(time:match("(%d+)M")) or 0
  return days * 1440 + hours * 60 + mins
end

return {
  validate = function(request, ctx)
    if ctx.action ~= "selfActivate" then
      return nil
    end
    local expiration = request.scheduleInfo and request.scheduleInfo.expiration
    local asked = minutes(expiration and expiration.duration)
    if asked == nil or asked > 120 then
      return { approval = true, approvers = { "PIM Approvers" } }
    end
  end,
}
]]
local ON_CALL_ROUTING = [[
-- The security on-call engineer joins every approval: Grace in even ISO weeks, Farid in odd
-- ones. `route` runs when a request starts waiting for approval; it adds approvers to the
-- stage (or, with replace = true, replaces them).
--   pimlab hook add on-call-routing --file scripts/hooks/on-call-routing.lua --role "Global Administrator"
local ROTA = { [0] = "grace@contoso.example", [1] = "farid@contoso.example" }

return {
  route = function(request, ctx)
    local week = tonumber(os.date("%V")) -- ISO week of the simulated clock
    return { approvers = { ROTA[week % 2] }, replace = false }
  end,
}
]]
local SOC_NOTIFY = [[
-- Tell the security operations centre about every privileged activation's outcome: granted,
-- denied or timed out. `completed` runs once a request reaches its outcome; a notification it
-- returns goes to the outbox with the service's own (see `pimlab notifications --to soc@...`).
--   pimlab hook add soc-notify --file scripts/hooks/soc-notify.lua
return {
  completed = function(request, ctx)
    if ctx.action ~= "selfActivate" or not ctx.role.isPrivileged then
      return nil
    end
    return {
      notify = {
        to = { "soc@contoso.example" },
        subject = string.format("PIM: %s %s: %s", ctx.principal.displayName, ctx.role.displayName, request.status),
        body = string.format("Justification: %s\nRequest: %s", request.justification or "(none)", request.id),
      },
    }
  end,
}
]]
local function section(title) print("") print("== " .. title .. " (" .. os.date("%a %H:%M") .. ")") end
local function alice(duration, reason)
  return pim.as("alice", function() return pim.activate{role = GA, duration = duration, justification = reason} end)
end
local function explain(id)
  for _, step in ipairs(pim.explain(id).trace) do
    if step.check:find("^hook") or step.check:find("^Hook") then print("  " .. step.check .. " (" .. step.limit .. "): " .. step.seen) end
  end
end
local function soc() -- the mails soc-notify sent (`notifications --to` knows only principals)
  local sent = {}
  for _, n in ipairs(pim.notifications()) do
    if n.event == "Hook:soc-notify" then sent[#sent + 1] = n end
  end
  return sent[#sent], #sent
end

section("Four hooks, in order")
pim.hook.add("after-hours-limit", AFTER_HOURS_LIMIT)
pim.hook.add("long-activation-approval", LONG_ACTIVATION_APPROVAL, {role = GA})
pim.hook.add("on-call-routing", ON_CALL_ROUTING, {role = GA})
pim.hook.add("soc-notify", SOC_NOTIFY)
for _, hook in ipairs(pim.hook.list()) do
  print(string.format("  %d. %s%s", hook.position, hook.name, hook.role and " (Global Administrator only)" or ""))
end
pim.expect_eq(#pim.hook.list(), 4, "four hooks attached")

section("A short activation in office hours: granted, and the SOC is told")
local quick = alice("PT2H", "Rotate the SAML signing certificate")
pim.expect_eq(quick.status, "Provisioned", "two hours during the day needs nobody")
explain(quick.id)
local mail, sent = soc()
pim.expect_eq(mail.subject, "PIM: Alice Andersen Global Administrator: Provisioned", "soc-notify mailed the SOC")

pim.clock.advance("PT3H")
section("A long activation: approval by PIM Approvers, plus the on-call engineer")
local long = alice("PT4H", "Tenant-wide Conditional Access review")
pim.expect_eq(long.status, "PendingApproval", "four hours waits for approval, though the role's settings do not ask for it")
local approvers = {}
for _, id in ipairs(pim.approvals()[1].approvers) do approvers[#approvers + 1] = pim.principal(id).displayName end
print("  approvers: " .. table.concat(approvers, ", "))
pim.expect_eq(#approvers, 3, "Kenji and Dev (PIM Approvers, without Alice herself) and Grace (on call in week 2)")
explain(long.id)
local approved = pim.as("grace", function() return pim.approve(long.id, "Reviewed with Alice") end)
pim.expect_eq(approved.status, "Provisioned", "Grace approves")
local _, sent_now = soc()
pim.expect_eq(sent_now, sent + 1, "and the SOC hears of it")

pim.clock.set("2025-01-06T19:00:00Z")
section("After hours: a shorter activation")
local late = alice("PT2H", "Certificate expiry alert")
pim.expect_eq(late.status, "Provisioned", "granted")
pim.expect_eq(late.scheduleInfo.expiration.duration, "PT1H", "but for one hour, not the two asked for")
explain(late.id)

section("The first denial wins")
local first = [[return { validate = function(request, ctx) return { deny = "ChangeFreeze", message = "change freeze until Thursday" } end }]]
local second = [[return { validate = function(request, ctx) return { deny = "AuditWeek", message = "audit week" } end }]]
pim.hook.add("change-freeze", first, {role = "Intune Administrator"})
pim.hook.add("audit-week", second, {role = "Intune Administrator"})
local e = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return pim.as("kenji", function() return pim.activate{role = "Intune Administrator", duration = "PT1H"} end)
end, "Kenji is refused")
pim.expect_eq(table.concat(e.rules, ","), "ChangeFreeze,JustificationRule",
  "by the first hook that denied, together with the built-in rule he broke; audit-week never ran")
pim.hook.remove("change-freeze")
pim.hook.remove("audit-week")

section("A broken hook fails closed")
pim.hook.add("typo", [[
return {
  validate = function(request, ctx)
    return { deny = "NoNights", mesage = "not at night" }
  end,
}
]], {role = "Security Administrator"})
local before = #pim.requests{}
e = pim.expect_error("PimlabHookFailed", function()
  return pim.as("chloe", function()
    return pim.activate{role = "Security Administrator", duration = "PT1H", justification = "Alert 7790"}
  end)
end, "the request fails, naming the hook")
print("  " .. e.message:match("^[^\n]*"))
pim.expect_eq(#pim.requests{}, before, "and nothing was stored")
pim.hook.remove("typo")
pim.hook.add("greedy", "return {\n  validate = function(request, ctx)\n    local big = string.rep('x', 64 * 1024 * 1024)\n  end,\n}\n",
  {role = "Security Administrator"})
e = pim.expect_error("PimlabHookFailed", function()
  return pim.as("chloe", function()
    return pim.activate{role = "Security Administrator", duration = "PT1H", justification = "Alert 7790"}
  end)
end, "a hook that asks for 64 MiB is stopped by its memory limit")
print("  " .. e.message:match("^[^\n]*"))
pim.hook.remove("greedy")
local fixed = pim.as("chloe", function()
  return pim.activate{role = "Security Administrator", duration = "PT1H", justification = "Alert 7790"}
end)
pim.expect_eq(fixed.status, "Provisioned", "with the broken hooks removed, Chloe activates")
