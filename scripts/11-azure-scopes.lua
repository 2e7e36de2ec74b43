-- pimlab run scripts/11-azure-scopes.lua --demo
--
-- Lesson 11: Azure resource roles and the scope tree.
--
-- Azure roles are held at a scope: a management group, a subscription, a resource group or a
-- resource. What is granted at a scope reaches everything below it. An eligibility at a
-- subscription can be activated at just the resource group that needs it ("just-enough access"),
-- but never at a scope beside it. Each (scope, role) has its own settings, and Azure's defaults
-- differ from Entra's: an eligibility must end (within a year). Administrators need an Azure role
-- that may assign roles at the scope or above it; the break-glass administrator starts with User
-- Access Administrator at the tenant root group. Over ARM, lists at a scope show what was made
-- there, what reaches it from above (memberType "Inherited"), and what was made below it.

local PROD = "/subscriptions/8a1f3c52-6d0e-4b7a-9c21-5e4d3f2a1b00"
local PIM = "?api-version=2020-10-01"
local function section(title) print("") print("== " .. title) end

section("The estate")
local function draw(node, indent)
  print(indent .. node.displayName .. " (" .. node.type .. ")")
  for _, child in ipairs(node.children) do draw(child, indent .. "  ") end
end
draw(pim.scope.tree("Contoso"), "  ")

section("Azure's default settings: an eligibility must end")
local e = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function()
  return pim.eligible.assign{principal = "alice", role = "Owner", scope = "Contoso Production", permanent = true,
    justification = "Production on-call"}
end, "a permanent Owner eligibility is refused by the subscription's default settings")
print("  " .. e.details[1].message)
local elig = pim.eligible.assign{principal = "alice", role = "Owner", scope = "Contoso Production", duration = "P90D",
  justification = "Production on-call"}
pim.expect_eq(elig.status, "Provisioned", "for 90 days it is accepted")

section("Just-enough access: activating below the eligibility")
local function activate(scope)
  return pim.as("alice", function()
    return pim.activate{role = "Owner", scope = scope, duration = "PT2H", justification = "Rotate the vault keys"}
  end)
end
pim.expect_eq(activate("rg-prod-data").status, "Provisioned", "Alice activates Owner on one resource group only")
pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", function() return activate("rg-dev-app") end,
  "but not in the development subscription, which her eligibility does not reach")

section("What ARM shows at each scope")
local function shown(scope, what)
  local body, status = pim.arm("GET", scope .. "/providers/Microsoft.Authorization/" .. what .. PIM
    .. "&$filter=assignedTo('" .. pim.principal("alice").id .. "')")
  if status ~= 200 then error(what .. " at " .. scope .. ": HTTP " .. status) end
  local out = {}
  for _, item in ipairs(body.value) do
    out[#out + 1] = item.properties.expandedProperties.scope.displayName .. " " .. item.properties.memberType
  end
  return table.concat(out, ", ")
end
local vault = PROD .. "/resourceGroups/rg-prod-data/providers/Microsoft.KeyVault/vaults/kv-contoso-prod"
for _, scope in ipairs({PROD, PROD .. "/resourceGroups/rg-prod-data", vault}) do
  print("  at " .. pim.scope.show(scope).displayName .. ": eligible " .. shown(scope, "roleEligibilityScheduleInstances")
    .. "; active " .. shown(scope, "roleAssignmentScheduleInstances"))
end
pim.expect_eq(shown(vault, "roleAssignmentScheduleInstances"), "rg-prod-data Inherited",
  "at the key vault, the resource group's activation reaches it from above")

section("Delegating at a resource group")
pim.active.assign{principal = "ben", role = "User Access Administrator", scope = "rg-prod-app", duration = "P30D",
  justification = "The app team manages its own access"}
local ok = pim.as("ben", function()
  return pim.eligible.assign{principal = "chloe", role = "Reader", scope = "rg-prod-app", duration = "P30D",
    justification = "Read the app's resources"}
end)
pim.expect_eq(ok.status, "Provisioned", "Ben may assign roles in his resource group")
pim.expect_error("AuthorizationFailed", function()
  return pim.as("ben", function()
    return pim.eligible.assign{principal = "chloe", role = "Reader", scope = "Contoso Production", duration = "P30D",
      justification = "Read everything"}
  end)
end, "but not at the subscription above it")
