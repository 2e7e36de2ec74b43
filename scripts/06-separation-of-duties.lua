-- pimlab run scripts/06-separation-of-duties.lua --demo
--
-- Lesson 6: separation of duties as a policy hook: never two roles of a conflicting set active
-- at once.
--
-- Whoever manages Conditional Access should not also be able to change security settings or
-- hand out roles at the same moment. Real PIM cannot say that; a `validate` hook can, because it
-- may ask what the principal holds right now: `ctx.assignments{principal = ID}` lists the active
-- assignments and activations in effect, and `ctx.principal.groups` the role-assignable groups
-- the principal belongs to (roles held through a group count too). Eligibility stays allowed:
-- the rule bites only when a second role would become active. The hook is the same text as
-- scripts/hooks/separation-of-duties.lua, for `pimlab hook add`.

local SECURITY, CA, PRA = "Security Administrator", "Conditional Access Administrator", "Privileged Role Administrator"
local SEPARATION_OF_DUTIES = [[
-- Separation of duties: nobody holds two roles of a conflicting set at the same time, whether
-- activated, assigned directly, or held through a role-assignable group.
--   pimlab hook add separation-of-duties --file scripts/hooks/separation-of-duties.lua
-- Built-in roles have the same ids in every tenant (their template ids), so a hook can name them.
local CONFLICTING = {
  ["194ae4cb-b126-40b2-bd5b-6091b380977d"] = "Security Administrator",
  ["b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"] = "Conditional Access Administrator",
  ["e8611ab8-c189-46e8-94e1-60213ab1f814"] = "Privileged Role Administrator",
}

return {
  validate = function(request, ctx)
    -- Only requests that would make a conflicting role active; being eligible is fine.
    local grants = ctx.action == "selfActivate" or ctx.action == "adminAssign"
    if ctx.kind ~= "assignment" or not grants or not CONFLICTING[ctx.role.id] then
      return nil
    end
    -- What the principal holds now: its own assignments and activations, and its groups'.
    local holders = { ctx.principal.id }
    for _, group in ipairs(ctx.principal.groups) do
      holders[#holders + 1] = group
    end
    for _, holder in ipairs(holders) do
      for _, held in ipairs(ctx.assignments{ principal = holder }) do
        local other = CONFLICTING[held.roleDefinitionId]
        if other and held.roleDefinitionId ~= ctx.role.id then
          local via = holder == ctx.principal.id and "" or " through a group"
          return {
            deny = "SeparationOfDuties",
            message = string.format("%s already holds %s%s; %s may not be active at the same time",
              ctx.principal.displayName, other, via, ctx.role.displayName),
          }
        end
      end
    end
  end,
}
]]
local function section(title) print("") print("== " .. title) end
local function activate(who, role, reason)
  return pim.as(who, function() return pim.activate{role = role, duration = "PT2H", justification = reason} end)
end
local function refused(fn, what)
  local e = pim.expect_error("RoleAssignmentRequestPolicyValidationFailed", fn, what)
  if e then
    pim.expect_eq(e.rules[1], "SeparationOfDuties", "by the separation-of-duties rule")
    print("  " .. e.details[1].message)
  end
end

section("The hook watches every role; it acts on three")
pim.hook.add("separation-of-duties", SEPARATION_OF_DUTIES)
local elig = pim.eligible.assign{principal = "chloe", role = CA, duration = "P90D", justification = "Backup for Isla"}
pim.expect_eq(elig.status, "Provisioned", "Chloe may be eligible for both Security and Conditional Access Administrator")

section("One at a time")
pim.expect_eq(activate("chloe", SECURITY, "Review alert 7731").status, "Provisioned", "Chloe activates Security Administrator")
refused(function() return activate("chloe", CA, "Block a risky sign-in location") end,
  "with it active, Conditional Access Administrator is refused")
pim.clock.advance("PT15M")
pim.as("chloe", function() return pim.deactivate{role = SECURITY, justification = "Alert closed"} end)
pim.expect_eq(activate("chloe", CA, "Block a risky sign-in location").status, "Provisioned",
  "after she gives Security Administrator back, Conditional Access Administrator is granted")

section("Administrators are held to it too")
refused(function()
  return pim.active.assign{principal = "chloe", role = SECURITY, duration = "P7D", justification = "Cover the SOC rota"}
end, "a direct Security Administrator assignment for Chloe is refused")
pim.expect_eq(pim.active.assign{principal = "isla", role = SECURITY, duration = "P7D", justification = "Cover the SOC rota"}.status,
  "Provisioned", "Isla holds nothing conflicting: she gets it")

section("Roles held through a group count")
-- Tier-0 Admins (Alice and Dev) are eligible for Privileged Role Administrator as a group.
local pra = activate("alice", PRA, "Onboard the new SOC analysts")
pim.expect_eq(pra.status, "Provisioned", "Alice activates Privileged Role Administrator through Tier-0 Admins")
pim.expect_eq(pim.active.list{principal = "alice", now = true}[1].memberType, "Group", "her activation is held through the group")
pim.eligible.assign{principal = "alice", role = SECURITY, duration = "P90D", justification = "Incident deputy"}
refused(function() return activate("alice", SECURITY, "Incident 4411") end,
  "with it active, Alice cannot also activate Security Administrator")
pim.active.assign{principal = "Tier-0 Admins", role = CA, duration = "P1D", justification = "Conditional Access rollout"}
pim.eligible.assign{principal = "dev", role = SECURITY, duration = "P90D", justification = "Incident deputy"}
refused(function() return activate("dev", SECURITY, "Incident 4412") end,
  "Dev's group now holds Conditional Access Administrator, so Dev is refused Security Administrator")

section("Roles outside the set are not affected")
pim.expect_eq(activate("kenji", "Intune Administrator", "Device compliance push").status, "Provisioned",
  "Kenji activates Intune Administrator")
