-- pimlab run scripts/01-activation.lua --demo
--
-- Lesson 1: activating an eligible role, and the policy rules that guard it.
--
-- Being *eligible* for a role grants nothing: the holder must *activate* it (a `selfActivate`
-- request) for a limited time, and the role's policy decides what an activation must carry. The
-- built-in defaults for Global Administrator: an MFA-backed sign-in, a justification, and at
-- most 8 hours. A request that breaks several rules is refused once, naming every rule it broke
-- (`RoleAssignmentRequestPolicyValidationFailed` with the rule list), so the requester can fix
-- everything in one go. Administrators can add a ticket requirement or an authentication
-- context; a role is given back early with `selfDeactivate`, but not within its first 5 minutes.

local GA = "Global Administrator"
local function section(title) print("") print("== " .. title) end
local function as_alice(fn, options) return pim.as("alice", fn, options) end
local function rules(e) return table.concat(e.rules, ", ") end

section("Eligible is not active")
pim.expect_eq(#pim.eligible.list{principal = "alice", role = GA}, 1, "Alice is eligible for Global Administrator")
pim.expect_eq(#pim.active.list{principal = "alice", now = true}, 0, "and holds nothing active")

section("One rule at a time")
local e = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return as_alice(function()
    return pim.activate{role = GA, duration = "PT1H", justification = "Rotate signing keys"}
  end, {mfa = false})
end, "a sign-in without MFA is refused")
pim.expect_eq(rules(e), "MfaRule", "only the MFA rule failed")
e = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return as_alice(function() return pim.activate{role = GA, duration = "PT1H"} end)
end, "no justification is refused")
pim.expect_eq(rules(e), "JustificationRule", "only the justification rule failed")
e = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return as_alice(function() return pim.activate{role = GA, duration = "PT9H", justification = "Long day"} end)
end, "9 hours is refused")
pim.expect_eq(rules(e), "ExpirationRule", "only the expiration rule failed")
print("  " .. e.details[1].message)

section("Every broken rule in one answer")
e = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return as_alice(function() return pim.activate{role = GA, duration = "P1D"} end, {mfa = false})
end, "a day, without MFA or a reason")
pim.expect_eq(rules(e), "ExpirationRule, MfaRule, JustificationRule", "all three rules are reported together")
pim.expect_eq(#pim.requests{principal = "alice", kind = "active"}, 0, "refused requests are not stored")

section("Check first, then ask: a validation-only request stores nothing")
local dry = as_alice(function()
  return pim.activate{role = GA, justification = "Rotate signing keys", validate_only = true}
end)
pim.expect_eq(dry.status, "Provisioned", "the dry run says it would be granted")
pim.expect_eq(#pim.active.list{principal = "alice", now = true}, 0, "and nothing was granted")

section("Within the policy")
local ok = as_alice(function() return pim.activate{role = GA, justification = "Rotate signing keys"} end)
pim.expect_eq(ok.status, "Provisioned", "MFA and a justification: granted at once")
pim.expect_eq(ok.scheduleInfo.expiration.duration, "PT8H", "without --duration it lasts the policy's maximum")
local instance = pim.active.list{principal = "alice", now = true}[1]
pim.expect_eq(instance.assignmentType, "Activated", "the instance is an activation, not an assignment")
print("active " .. instance.startDateTime .. " -> " .. instance.endDateTime)
pim.expect_error("RoleAssignmentExists", function()
  return as_alice(function() return pim.activate{role = GA, justification = "Again"} end)
end, "activating what is already active is refused")

section("Giving the role back early")
e = pim.expect_error("ActiveDurationTooShort", function()
  return as_alice(function() return pim.deactivate{role = GA} end)
end, "not within the first 5 minutes")
print("  " .. e.message)
print("  - " .. e.details[1].code .. ": " .. e.details[1].message)
pim.clock.advance("PT20M")
local back = as_alice(function() return pim.deactivate{role = GA, justification = "Keys rotated"} end)
pim.expect_eq(back.action, "selfDeactivate", "a selfDeactivate request")
pim.expect_eq(back.status, "Revoked", "ends the activation")
pim.expect_eq(#pim.active.list{principal = "alice", now = true}, 0, "Alice is back to eligible only")

section("Stricter settings: a ticket and an authentication context")
pim.policy.set(GA, {require_ticket = true, require_auth_context = "c1"})
e = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return as_alice(function() return pim.activate{role = GA, duration = "PT1H", justification = "Incident"} end)
end, "without a ticket")
pim.expect_eq(rules(e), "TicketingRule", "the ticketing rule failed")
e = pim.expect_error("RoleAssignmentRequestAcrsValidationFailed", function()
  return as_alice(function()
    return pim.activate{role = GA, duration = "PT1H", justification = "Incident", ticket = "ServiceNow:INC0012345"}
  end)
end, "with a ticket, but a session without authentication context c1")
local strict = as_alice(function()
  return pim.activate{role = GA, duration = "PT1H", justification = "Incident",
    ticket = "ServiceNow:INC0012345", auth_context = "c1"}
end)
pim.expect_eq(strict.status, "Provisioned", "ticket and step-up sign-in: granted")
pim.expect_eq(strict.ticketInfo.ticketNumber, "INC0012345", "the ticket is kept on the request")

section("How it was decided")
for _, step in ipairs(pim.explain(strict.id).trace) do
  print(string.format("  %s %-58s %s", step.passed and "pass" or "FAIL", step.check, step.seen))
end
