-- pimlab run scripts/09-notifications.lua --demo
--
-- Lesson 9: who gets mail, and how the role's settings change it.
--
-- Nine notification rules per role decide the mail PIM sends: three audiences (Admin, Requestor,
-- Approver) for three kinds of event (an administrator making someone eligible, an
-- administrator assigning a role, a member activating). Each rule has default recipients (for
-- Admin: the holders of Global Administrator and Privileged Role Administrator; for Requestor:
-- the person concerned; for Approver: the request's approvers), extra `notificationRecipients`,
-- and a `notificationLevel`: All, Critical (only mail that asks someone to act: approval
-- requests and expiry warnings) or None. pimlab keeps every mail in an outbox.

local GA = "Global Administrator"
local function section(title) print("") print("== " .. title) end
local function rule(id, setting)
  setting["@odata.type"] = "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule"
  return pim.policy.set(GA, {rule = id, body = setting})
end
-- The mail sent since `mark` (an outbox size), as "Audience -> recipients: subject".
local function since(mark)
  local all, lines = pim.notifications(), {}
  for i = mark + 1, #all do
    lines[#lines + 1] = all[i].recipientType .. " -> " .. table.concat(all[i].recipients, ", ") .. ": " .. all[i].subject
  end
  return lines, #all
end
local function show(lines) for _, line in ipairs(lines) do print("  " .. line) end end

section("Defaults: an activation tells the administrators and the requestor")
local mark = #pim.notifications()
pim.as("alice", function() return pim.activate{role = GA, duration = "PT1H", justification = "Directory sync fix"} end)
local lines
lines, mark = since(mark)
show(lines)
pim.expect_eq(#lines, 2, "two mails")
pim.expect(lines[1]:find("^Admin %-> breakglass@contoso.example") ~= nil, "the administrators' mail goes to the Global Administrators")
pim.expect(lines[2]:find("^Requestor %-> alice@contoso.example") ~= nil, "the requestor's to Alice")

section("The SOC instead of the default administrators; no mail to the requestor")
rule("Notification_Admin_EndUser_Assignment",
  {isDefaultRecipientsEnabled = false, notificationLevel = "All", notificationRecipients = {"soc@contoso.example"}})
rule("Notification_Requestor_EndUser_Assignment",
  {isDefaultRecipientsEnabled = true, notificationLevel = "None", notificationRecipients = pim.array()})
pim.clock.advance("PT2H")
pim.as("alice", function() return pim.activate{role = GA, duration = "PT1H", justification = "Directory sync, part 2"} end)
lines, mark = since(mark)
show(lines)
pim.expect_eq(#lines, 1, "one mail")
pim.expect(lines[1]:find("^Admin %-> soc@contoso.example:") ~= nil, "to the SOC only")

section("Critical only: warnings that ask someone to act, nothing else")
rule("Notification_Requestor_Admin_Eligibility",
  {isDefaultRecipientsEnabled = true, notificationLevel = "Critical", notificationRecipients = pim.array()})
rule("Notification_Admin_Admin_Eligibility",
  {isDefaultRecipientsEnabled = true, notificationLevel = "None", notificationRecipients = pim.array()})
pim.eligible.assign{principal = "kenji", role = GA, duration = "P20D", justification = "Cover for Alice's leave"}
pim.clock.advance("P21D")
local kenji = {}
for _, n in ipairs(pim.notifications{to = "kenji"}) do
  if n.subject:find(GA, 1, true) then
    kenji[#kenji + 1] = n.dateTime .. "  " .. n.subject .. (n.critical and "  [critical]" or "")
  end
end
show(kenji)
pim.expect_eq(#kenji, 2, "Kenji gets the 14-day and the 1-day warning")
pim.expect(kenji[1]:find("expires in 14 days", 1, true) ~= nil, "first the 14-day one")
pim.expect(kenji[2]:find("expires in 1 day", 1, true) ~= nil, "then the 1-day one")
pim.expect_eq(#pim.eligible.list{principal = "kenji", role = GA}, 0, "his eligibility has ended, without the (non-critical) notice")

section("Approvers are told when they must act")
pim.policy.set(GA, {require_approval = true, approver = {"PIM Approvers"}})
mark = #pim.notifications()
local req = pim.as("alice", function() return pim.activate{role = GA, duration = "PT1H", justification = "Quarterly review"} end)
lines, mark = since(mark)
show(lines)
pim.expect(lines[1]:find("^Approver %-> kenji@contoso.example, dev@contoso.example") ~= nil,
  "the approvers (not Alice, though she is in PIM Approvers)")
pim.as("kenji", function() return pim.approve(req.id, "Fine") end)
lines = since(mark)
show(lines)
pim.expect_eq(#lines, 1, "once approved, only the SOC hears: Alice's requestor mail is still set to None")
rule("Notification_Requestor_EndUser_Assignment",
  {isDefaultRecipientsEnabled = true, notificationLevel = "All", notificationRecipients = pim.array()})
pim.clock.advance("PT2H")
mark = #pim.notifications()
req = pim.as("alice", function() return pim.activate{role = GA, duration = "PT1H", justification = "Quarterly review, day 2"} end)
pim.as("dev", function() return pim.deny(req.id, "Finished yesterday") end)
lines = since(mark)
show(lines)
pim.expect(lines[#lines]:find("^Requestor %-> alice@contoso.example: .*was denied") ~= nil,
  "with the requestor rule back at All, Alice hears that Dev denied her")
