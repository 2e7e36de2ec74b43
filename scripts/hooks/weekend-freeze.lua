-- Weekend freeze: nobody activates a privileged role on a Saturday or a Sunday (UTC).
--   pimlab hook add weekend-freeze --file scripts/hooks/weekend-freeze.lua
-- Add --role "Global Administrator" to freeze one role only. Administrators' own actions
-- (adminAssign, adminRemove, ...) are not frozen: the hook judges activations only.
return {
  validate = function(request, ctx)
    if ctx.action ~= "selfActivate" or not ctx.role.isPrivileged then
      return nil
    end
    local day = os.date("%A") -- os.date reads the simulated clock
    if day == "Saturday" or day == "Sunday" then
      return {
        deny = "WeekendFreeze",
        message = ctx.role.displayName .. " cannot be activated on a " .. day .. "; ask again on Monday",
      }
    end
  end,
}
