-- The security on-call engineer joins every approval: Grace in even ISO weeks, Farid in odd
-- ones. `route` runs when a request starts waiting for approval; it adds approvers to the
-- stage (or, with replace = true, replaces them).
--   pimlab hook add on-call-routing --file scripts/hooks/on-call-routing.lua --role "Global Administrator"
local ROTA = { [0] = "grace@contoso.example", [1] = "farid@contoso.example" }

return {
  route = function(request, ctx)
    local week = tonumber(os.date("%V")) -- ISO week of the simulated clock
    return { approvers = { ROTA[week % 2] }, replace = false }
  end,
}
