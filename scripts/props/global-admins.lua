-- Properties of Global Administrator, for `pimlab check` and `pimlab fuzz` (README: Properties over time).
property("at most 4 Global Administrators", function(t)
  local holders = t.principals("Global Administrator")
  return #holders <= 4, #holders .. " hold it: " .. table.concat(holders, ", ")
end)

property("the break-glass account always holds Global Administrator", function(t)
  return t.holds("breakglass@contoso.example", "Global Administrator")
end)
