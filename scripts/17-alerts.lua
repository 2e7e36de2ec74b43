-- pimlab run scripts/17-alerts.lua --demo
--
-- Lesson 17: PIM alerts.
--
-- PIM watches the tenant for what an administrator should know about: roles assigned outside PIM,
-- too many Global Administrators, roles that activate without MFA, eligible administrators who
-- never activate, roles activated again and again, accounts that no longer sign in, standing
-- privilege. Each alert has thresholds the tenant can change, lists the affected items, and says
-- how to fix each. `pim.alerts()` computes them at the simulated clock; `pim.alerts.set` changes a
-- threshold (an audited change), `pim.alerts.dismiss` and `pim.alerts.refresh` do what the portal's
-- buttons do.

local function section(title) print("") print("== " .. title) end
local function find(report, name)
  for _, a in ipairs(report.alerts) do if a.name == name then return a end end
end
local GA = "TooManyGlobalAdminsAssignedToTenantAlert"

section("What fires in the demo organisation")
local report = pim.alerts()
for _, a in ipairs(report.alerts) do
  print(string.format("  %-6s %-45s %s", a.severity, a.name, a.fires and ("fires: " .. #a.incidents) or "quiet"))
end
pim.expect_eq(find(report, GA).fires, false, "two Global Administrators: under the default threshold of three")

section("A stricter threshold: two Global Administrators are too many")
pim.alerts.set("TooManyGlobalAdmins", { globalAdminCountThreshold = 2 })
local ga = find(pim.alerts(), GA)
for _, i in ipairs(ga.incidents) do print("  " .. i.principal.name .. ": " .. i.why) end
pim.expect_eq(#ga.incidents, 2, "Alice (eligible) and the break-glass account (active) are reported")

section("A role that activates without MFA")
pim.policy.set("Helpdesk Administrator", { require_mfa = false })
local mfa = find(pim.alerts(), "NoMfaOnRoleActivationAlert")
pim.expect_eq(mfa.incidents[1].role.name, "Helpdesk Administrator", "the alert names the role")
pim.expect_eq(mfa.incidents[1].fix.action, "requireMfa", "and the fix: require MFA again")
pim.policy.set("Helpdesk Administrator", { require_mfa = true })

section("Activated twice within an hour")
pim.activate{ as = "kenji", role = "Intune Administrator", duration = "PT30M", justification = "Enrol devices" }
pim.clock.advance("PT30M")
pim.activate{ as = "kenji", role = "Intune Administrator", duration = "PT30M", justification = "More devices" }
local seq = find(pim.alerts(), "SequentialActivationRenewalsAlert")
print("  " .. seq.incidents[1].why)
pim.expect_eq(seq.incidents[1].activationCount, 2, "two activations of one role by one person within PT1H")

section("Dismissed, until something new happens")
pim.alerts.dismiss("SequentialActivationRenewals")
pim.expect_eq(find(pim.alerts(), "SequentialActivationRenewalsAlert").active, false, "dismissed")
pim.alerts.refresh()
pim.expect_eq(find(pim.alerts(), "SequentialActivationRenewalsAlert").active, true, "a refresh scans again")

section("Thirty days on: accounts that did nothing since look stale")
pim.clock.advance("P29DT23H45M")
local stale = find(pim.alerts(), "StaleSignInAlert")
print("  " .. #stale.incidents .. " privileged holdings of accounts not seen for " .. stale.thresholds[1].value)
local kenji = false
for _, i in ipairs(stale.incidents) do kenji = kenji or i.principal.name == "Kenji Sato" end
pim.expect_eq(kenji, false, "Kenji signed in to activate half an hour after the others were last seen")
