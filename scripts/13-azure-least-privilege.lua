-- pimlab run scripts/13-azure-least-privilege.lua --demo
--
-- Lesson 13: a least-privilege plan, Contributor on a resource group instead of Owner on the
-- subscription.
--
-- The app team asked for Owner of the production subscription "to deploy". Deploying needs write
-- access to the app's resource group, not the power to grant access, and not the data resource
-- group beside it. This lesson compares the two plans: what each role allows (from the role
-- definitions, as ARM returns them), where each reaches (the scope tree), and what the team can
-- and cannot do once it holds the smaller one.

local PROD = "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00"
local function section(title) print("") print("== " .. title) end

section("What the two roles allow")
local function role(name)
  local body = pim.arm("GET", PROD .. "/providers/Microsoft.Authorization/roleDefinitions"
    .. "?api-version=2022-04-01&$filter=roleName eq '" .. name .. "'")
  return body.value[1].properties.permissions[1]
end
local owner, contributor = role("Owner"), role("Contributor")
print("  Owner:       actions " .. table.concat(owner.actions, ", ") .. "; excludes nothing")
print("  Contributor: actions " .. table.concat(contributor.actions, ", ") .. "; excludes "
  .. #contributor.notActions .. " actions, among them " .. contributor.notActions[2])
pim.expect_eq(contributor.notActions[2], "Microsoft.Authorization/*/Write",
  "Contributor cannot write role assignments: it cannot grant access")

section("The plan: Contributor, eligible, on the app's resource group only")
pim.group("App Team", {members = {"hugo", "isla"}})
local plan = pim.eligible.assign{principal = "App Team", role = "Contributor", scope = "rg-prod-app",
  duration = "P180D", justification = "Deployments of the production app"}
pim.expect_eq(plan.status, "Provisioned", "the group is eligible, for six months")

section("Hugo deploys")
local hugo = pim.as("hugo", function()
  return pim.activate{role = "Contributor", scope = "rg-prod-app", duration = "PT2H", justification = "Release 4.2"}
end)
pim.expect_eq(hugo.status, "Provisioned", "Hugo activates the group's eligibility at the app's resource group")
pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return pim.as("hugo", function()
    return pim.activate{role = "Contributor", scope = "rg-prod-data", duration = "PT1H", justification = "Peek"}
  end)
end, "the data resource group beside it is out of reach")

section("What the smaller role does not allow")
pim.expect_error("AuthorizationFailed", function()
  return pim.as("hugo", function()
    return pim.active.assign{principal = "isla", role = "Reader", scope = "rg-prod-app", duration = "P7D",
      justification = "Let Isla look"}
  end)
end, "Hugo, as Contributor, cannot grant access, even in his resource group")

section("Who holds what where")
local function role_name(id)
  local body = pim.arm("GET", "/providers/Microsoft.Authorization/roleDefinitions/" .. id .. "?api-version=2022-04-01")
  return body.properties.roleName
end
local held = pim.active.list{principal = "hugo", now = true}
for _, s in ipairs(held) do
  local scope = pim.scope.show(s.directoryScopeId)
  print("  hugo: " .. role_name(s.roleDefinitionId) .. " at " .. scope.displayName .. " (" .. scope.type .. "), "
    .. s.assignmentType .. " through " .. s.memberType)
end
pim.expect_eq(#held, 1, "one activation, at one resource group, for two hours")
