-- pimlab run scripts/10-groups.lua --demo
--
-- Lesson 10: roles through role-assignable groups.
--
-- Instead of making each helpdesk engineer eligible, an administrator makes a group eligible;
-- joining or leaving the group then gives or takes the eligibility. Only groups created as
-- role-assignable (isAssignableToRole) may hold directory roles. A member activates the group's
-- eligibility with their own id: the activation is theirs alone (memberType "Group",
-- activatedUsing = the group's eligibility), and the other members are unaffected. With
-- `--for-group`, a member activates for the whole group instead.

local HELPDESK = "Helpdesk Administrator"
local function section(title) print("") print("== " .. title) end
local function activate(who, options)
  options.role, options.duration = HELPDESK, options.duration or "PT1H"
  return pim.as(who, function() return pim.activate(options) end)
end

section("The group holds the eligibility, not its members")
local group_elig = pim.eligible.list{principal = "Helpdesk Tier 1", role = HELPDESK}
pim.expect_eq(#group_elig, 1, "Helpdesk Tier 1 is eligible for Helpdesk Administrator")
local through = pim.eligible.list{principal = "ben"}
local own = 0
for _, s in ipairs(through) do if s.memberType ~= "Group" then own = own + 1 end end
pim.expect_eq(own, 0, "Ben, a member, has no eligibility of his own")
pim.expect_eq(#through == 1 and through[1].memberType, "Group", "his listing shows the group's, as memberType Group")
local members = {}
for _, m in ipairs(pim.run{"group", "members", "Helpdesk Tier 1"}) do members[#members + 1] = m.displayName end
print("members: " .. table.concat(members, ", "))

section("A member activates for himself")
local ben = activate("ben", {justification = "Password resets for the Lyon office"})
pim.expect_eq(ben.status, "Provisioned", "Ben activates")
pim.expect_eq(ben.principalId, pim.principal("ben").id, "with his own id")
local instance = pim.active.list{principal = "ben", now = true}[1]
pim.expect_eq(instance.memberType, "Group", "held through the group")
pim.expect_eq(#pim.active.list{principal = "emma", now = true}, 0, "Emma, another member, is unaffected")
pim.expect_eq(#pim.active.list{principal = "Helpdesk Tier 1", now = true}, 0, "and the group itself holds nothing active")

section("Membership is the eligibility")
local e = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return activate("lena", {justification = "Cover the Berlin desk"})
end, "Lena is not a member: refused")
pim.expect_eq(e.rules[1], "EligibilityRule", "for lack of an eligibility")
pim.add_member("Helpdesk Tier 1", "lena")
pim.expect_eq(activate("lena", {justification = "Cover the Berlin desk"}).status, "Provisioned",
  "once added to the group, Lena activates")

section("Activating for the whole group")
local all = activate("emma", {justification = "Mass password reset after phishing", for_group = "Helpdesk Tier 1"})
pim.expect_eq(all.principalId, pim.principal("Helpdesk Tier 1").id, "the activation is the group's")
pim.expect_eq(#pim.active.list{principal = "Helpdesk Tier 1", now = true}, 1, "so every member holds the role for its duration")

section("Only role-assignable groups hold roles")
pim.group("Night Shift", {members = {"isla", "jonas"}})
e = pim.expect_error("InvalidPrincipalForRoleAssignment", function()
  return pim.eligible.assign{principal = "Night Shift", role = HELPDESK, duration = "P90D", justification = "Night cover"}
end, "a plain security group cannot be made eligible")
print("  " .. e.message)
pim.group("Night Shift Admins", {role_assignable = true, members = {"isla", "jonas"}})
local night = pim.eligible.assign{principal = "Night Shift Admins", role = HELPDESK, duration = "P90D", justification = "Night cover"}
pim.expect_eq(night.status, "Provisioned", "a role-assignable one can")
pim.clock.set("2025-01-06T23:00:00Z")
pim.expect_eq(activate("jonas", {justification = "Locked-out night nurse"}).status, "Provisioned", "and Jonas activates through it at night")

section("Graph shows who holds what, and how")
local body = pim.graph("GET", "/roleManagement/directory/roleAssignmentScheduleInstances?$filter=roleDefinitionId eq '"
  .. pim.role.show(HELPDESK).id .. "'&$select=principalId,memberType,assignmentType")
for _, i in ipairs(body.value) do
  print("  " .. pim.principal(i.principalId).displayName .. ": " .. i.assignmentType .. " (" .. i.memberType .. ")")
end
pim.expect_eq(#body.value, 1, "at 23:00 only Jonas's activation is still in effect")
