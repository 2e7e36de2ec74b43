-- pimlab run scripts/14-group-membership.lua --demo
--
-- Lesson 14: just-in-time group membership (PIM for Groups).
--
-- PIM governs a group's membership and ownership as it governs a role: a principal is made
-- eligible to be a member (or owner), activates for a few hours, and is a member exactly for
-- that window. When the group is role-assignable and holds a directory role, the membership
-- brings the role with it: user -> group membership (PIM for Groups) -> directory role. The
-- group has its own settings (a year's eligibility, eight hours' activation, a justification),
-- made when it is first used in PIM.

local GROUP, ROLE = "Security Desk", "Security Reader"
local function section(title) print("") print("== " .. title) end
local function is_member(who)
  for _, m in ipairs(pim.run{"group", "members", GROUP}) do
    if m.id == pim.principal(who).id then return true end
  end
  return false
end
local function holds_role(who)
  return #pim.active.list{principal = who, role = ROLE, now = true} > 0
end

section("A role-assignable group holds a directory role")
pim.group(GROUP, {role_assignable = true})
pim.active.assign{principal = GROUP, role = ROLE, permanent = true, justification = "The desk reads security reports"}
print("  " .. GROUP .. " holds " .. ROLE .. "; it has no members yet")

section("Ben is eligible to be a member, which is not being one")
pim.eligible.assign{principal = "ben", group = GROUP, access = "member", duration = "P90D", justification = "On the security rota"}
pim.expect(not is_member("ben"), "an eligibility does not make Ben a member")
pim.expect(not holds_role("ben"), "so he does not hold " .. ROLE)

section("He activates his membership for two hours")
local start = pim.clock.now()
local joined = pim.as("ben", function()
  return pim.activate{group = GROUP, access = "member", duration = "PT2H", justification = "Investigating alert 7731"}
end)
pim.expect_eq(joined.status, "Provisioned", "the activation is provisioned at once")
pim.expect(is_member("ben"), "Ben is a member of " .. GROUP)
local held = pim.active.list{principal = "ben", role = ROLE, now = true}
pim.expect_eq(#held == 1 and held[1].memberType, "Group", "and holds " .. ROLE .. " through the group")
for _, step in ipairs(pim.explain(joined.id).trace) do
  if step.check == "GroupHoldsDirectoryRoles" then print("  explain: " .. step.seen) end
end

section("The role lasts exactly as long as the membership")
pim.clock.advance("PT1H59M")
pim.expect(holds_role("ben"), "at " .. pim.clock.now() .. " he still holds it")
pim.clock.advance("PT1M")
pim.expect(not is_member("ben"), "at " .. pim.clock.now() .. " the membership has ended")
pim.expect(not holds_role("ben"), "and the role with it: held from " .. start .. " for exactly two hours")
-- The PIM service itself adds and removes the member; Entra's audit log shows both.
for _, row in ipairs(pim.audit{principal = "ben"}) do
  if row.initiatedBy.app and row.initiatedBy.app.displayName == "MS-PIM" and row.category == "GroupManagement" then
    print("  audit: " .. row.activityDateTime .. " " .. row.activityDisplayName .. " (" .. row.resultReason .. ")")
  end
end

section("The group's own settings")
local settings = pim.policy.show("member", {group = GROUP})
print("  " .. settings.id)
pim.policy.set("member", {group = GROUP, activation_max = "PT1H"})
local e = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return pim.as("ben", function()
    return pim.activate{group = GROUP, access = "member", duration = "PT2H", justification = "Alert 7740"}
  end)
end, "now an activation of two hours is refused")
pim.expect_eq(e.rules[1], "ExpirationRule", "by the expiration rule")
