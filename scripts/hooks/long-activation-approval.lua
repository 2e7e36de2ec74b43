-- Long activations need a second pair of eyes: an activation of more than two hours (or one
-- that asks for no duration, and so gets the role's maximum) waits for the PIM Approvers group.
--   pimlab hook add long-activation-approval --file scripts/hooks/long-activation-approval.lua --role "Global Administrator"
local function minutes(iso) -- "PT1H30M" -> 90, "P1D" -> 1440; nil when there is none
  if type(iso) ~= "string" or iso:sub(1, 1) ~= "P" then
    return nil
  end
  local time = iso:match("T(.*)$") or ""
  local days = tonumber(iso:match("^P(%d+)D")) or 0
  local hours = tonumber(time:match("(%d+)H")) or 0
  local mins = tonumber(time:match("(%d+)M")) or 0
  return days * 1440 + hours * 60 + mins
end

return {
  validate = function(request, ctx)
    if ctx.action ~= "selfActivate" then
      return nil
    end
    local expiration = request.scheduleInfo and request.scheduleInfo.expiration
    local asked = minutes(expiration and expiration.duration)
    if asked == nil or asked > 120 then
      return { approval = true, approvers = { "PIM Approvers" } }
    end
  end,
}
