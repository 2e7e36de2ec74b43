-- Properties over time (`pimlab check`, `pimlab fuzz`): how a property file declares its
-- properties, the view `t` a property reads, and how what it returns is judged. The host
-- (hooks/properties.rs) runs this before the file; the script `fuzz` prints carries it whole, so
-- that a property is declared, sees `t` and is judged there exactly as `check` does.
local properties = { declared = {} }

--- `property(name, fn)`: declares a property, judged at every instant with the view `t`.
function properties.declare(name, fn)
  if type(name) ~= "string" or name == "" then error("property: the first argument is its name, a string", 2) end
  if type(fn) ~= "function" then error("property '" .. name .. "': the second argument must be a function(t)", 2) end
  for _, p in ipairs(properties.declared) do
    if p.name == name then error("property '" .. name .. "' is declared twice", 2) end
  end
  properties.declared[#properties.declared + 1] = { name = name, fn = fn }
end

--- `t`: the tenant as of the instant `now` (ISO 8601), read-only, over `ask(kind, args)`, which
--- answers "who", "access" and "request" as `pim.who`, `pim.access` and `pim.request` do (nil
--- and a message on failure). Answers are kept for the instant, so asking twice costs nothing.
function properties.view(now, ask)
  local answers = {}
  local function asked(kind, args)
    local key = table.concat({ kind, tostring(args.role or args.principal or args.id), tostring(args.scope),
      tostring(args.could) }, "\0")
    local answer = answers[key]
    if answer == nil then
      local e
      answer, e = ask(kind, args)
      if answer == nil then error(tostring(e), 0) end
      answers[key] = answer
    end
    return answer
  end
  local t = { now = now }
  --- The active holders of `role` (at `scope`; default every scope), one per chain, as `who`
  --- lists them: `principal` {id, name}, `holds`, `via` (the chain), `window`.
  function t.holders(role, scope) return asked("who", { role = role, scope = scope }).holders end
  --- Who could hold `role` by activating (eligible directly or through a chain), with `obstacles`.
  function t.eligible(role, scope)
    local out = {}
    for _, h in ipairs(asked("who", { role = role, scope = scope, could = true }).holders) do
      if h.holds == "eligible" then out[#out + 1] = h end
    end
    return out
  end
  --- The names of the principals that hold `role` actively, each once (however many chains), sorted.
  function t.principals(role, scope)
    local seen, out = {}, {}
    for _, h in ipairs(t.holders(role, scope)) do
      if not seen[h.principal.name] then
        seen[h.principal.name] = true
        out[#out + 1] = h.principal.name
      end
    end
    table.sort(out)
    return out
  end
  --- Everything `principal` (id, name or UPN) holds or could hold, as `access` lists it.
  function t.access(principal) return asked("access", { principal = principal }).holdings end
  --- Whether `principal` holds `role` (name or id) actively, through any chain.
  function t.holds(principal, role)
    for _, h in ipairs(t.access(principal)) do
      if h.holds == "active" and (h.role.name == role or h.role.id == role) then return true end
    end
    return false
  end
  --- A request as it stands now, in Graph's shape (`approvalId` is set when it needed an
  --- approval). A schedule made by a request has that request's id: `t.request(h.via.scheduleId)`.
  function t.request(id) return asked("request", { id = id }) end
  return t
end

--- How a property's answer is judged: "holds" (true), "violated" (false, or false and a message)
--- or "failed" (an error, or anything but a boolean), with a message.
function properties.judge(fn, t)
  local results = table.pack(pcall(fn, t))
  if not results[1] then return "failed", tostring(results[2]) end
  local held, message = results[2], results[3]
  if held == true then return "holds" end
  if held == false then return "violated", message ~= nil and tostring(message) or nil end
  local got = held == nil and "nothing" or ("a " .. type(held))
  return "failed", "returned " .. got .. "; a property returns true, or false and a message"
end

return properties
