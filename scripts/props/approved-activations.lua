-- Every activation of Security Administrator in effect needed an approval (its request has an approvalId).
property("nobody holds Security Administrator without an approval", function(t)
  for _, h in ipairs(t.holders("Security Administrator")) do
    if h.via.assignmentType == "Activated" and t.request(h.via.scheduleId).approvalId == nil then
      return false, h.principal.name .. " activated it without an approval"
    end
  end
  return true
end)
