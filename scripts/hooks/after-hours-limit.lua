-- After hours, activations are short: outside Monday to Friday, 08:00 to 18:00 UTC, an
-- activation lasts at most one hour, whatever was asked for (a hook may shorten a request,
-- never lengthen it, and never beyond the role's own maximum).
--   pimlab hook add after-hours-limit --file scripts/hooks/after-hours-limit.lua
return {
  validate = function(request, ctx)
    if ctx.action ~= "selfActivate" then
      return nil
    end
    local now = os.date("*t") -- the simulated clock; wday 1 is Sunday
    local weekday = now.wday >= 2 and now.wday <= 6
    if not (weekday and now.hour >= 8 and now.hour < 18) then
      return { duration = "PT1H" }
    end
  end,
}
