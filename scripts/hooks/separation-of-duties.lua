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
