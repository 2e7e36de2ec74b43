-- The `pim` API of scenario scripts and REPL one-liners. Every call runs a pimlab command line
-- (the same grammar as the CLI, with --json) through the host, so scripts can do whatever the
-- command line can, the same way. `__host` is installed by the runner.
local host = __host
__host = nil

local pim = {}

-- An error from pimlab: code, status, message; prints as "Code (HTTP n): message".
local Error = {}
Error.__index = Error
Error.__tostring = function(e)
  return string.format("%s%s (HTTP %s): %s", e.where and (e.where .. ": ") or "", e.code, tostring(e.status), e.message)
end

-- The parts of a message scripts test for: `e.details`, pimlab's explanation lines
-- ({code = "SelfApproval", message = "..."}, from "  - Code: text"), and `e.rules`, the policy
-- rules a refused request broke ({"ExpirationRule", "MfaRule"}, from "...failed: [...]").
local function fail(e)
  e.where = host.where()
  e.details, e.rules = {}, {}
  local text = tostring(e.message or "")
  for code, message in text:gmatch("\n  %- ([%w_%.]+): ([^\n]*)") do
    e.details[#e.details + 1] = { code = code, message = message }
  end
  local failed = text:match("^The following policy rules failed: (%b[])")
  for rule in (failed or ""):gmatch('"([^"]+)"') do e.rules[#e.rules + 1] = rule end
  error(setmetatable(e, Error), 0)
end

-- {principal = "alice", duration = "PT8H", permanent = true, approver = {"a", "b"}} -> flags,
-- in a stable order so runs are reproducible.
local function flags(argv, options)
  if options == nil then return argv end
  if type(options) ~= "table" then error("options must be a table", 3) end
  local keys = {}
  for k in pairs(options) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = options[k]
    local flag = "--" .. tostring(k):gsub("_", "-")
    if v == true then
      argv[#argv + 1] = flag
    elseif v == false or v == nil then
      -- absent
    elseif type(v) == "table" then
      for _, item in ipairs(v) do
        argv[#argv + 1] = flag
        argv[#argv + 1] = tostring(item)
      end
    else
      argv[#argv + 1] = flag
      argv[#argv + 1] = tostring(v)
    end
  end
  return argv
end

--- Runs a command line (a string, or a list of words) and returns its --json result decoded.
function pim.run(words, options)
  if type(words) == "string" then words = host.split(words) end
  local argv = { "--json" }
  for _, w in ipairs(words) do argv[#argv + 1] = w end
  flags(argv, options)
  local ok, result = host.command(argv)
  if not ok then fail(result) end
  return result
end

local function verb(...)
  local prefix = { ... }
  return function(options)
    local words = {}
    for _, w in ipairs(prefix) do words[#words + 1] = w end
    return pim.run(words, options)
  end
end

local function admin_actions(kind)
  return {
    assign = verb(kind, "assign"), update = verb(kind, "update"), remove = verb(kind, "remove"),
    extend = verb(kind, "extend"), renew = verb(kind, "renew"), list = verb(kind, "list"),
  }
end
pim.eligible = admin_actions("eligible")
pim.active = admin_actions("active")
pim.activate = verb("activate")
pim.deactivate = verb("deactivate")
pim.extend = verb("extend")
pim.renew = verb("renew")
pim.requests = verb("requests")
pim.approvals = verb("approvals")
pim.notifications = verb("notifications")
pim.audit = verb("audit")

function pim.request(id) return pim.run({ "request", "show", id }) end
function pim.cancel(id) return pim.run({ "request", "cancel", id }) end
function pim.explain(id) return pim.run({ "request", "explain", id }) end
function pim.approve(id, justification) return pim.run({ "approve", id }, { justification = justification }) end
function pim.deny(id, justification) return pim.run({ "deny", id }, { justification = justification }) end

local function directory(kind)
  return function(name, options)
    options = options or {}
    local members = options.members
    local add = {}
    for k, v in pairs(options) do if k ~= "members" then add[k] = v end end
    local object = pim.run({ kind, "add", name }, add)
    for _, m in ipairs(members or {}) do
      pim.run({ kind, "add-member", object.id, type(m) == "table" and m.id or m })
    end
    return object
  end
end
pim.user = directory("user")
pim.group = directory("group")
pim.sp = directory("sp")
pim.au = directory("au")
function pim.add_member(container, member, owner)
  return pim.run({ "group", "add-member", container, member }, { owner = owner or nil })
end
function pim.principal(name) return pim.run({ "user", "show", name }) end

pim.role = {
  show = function(name) return pim.run({ "role", "show", name }) end,
  list = verb("role", "list"),
  add = function(name, options) return pim.run({ "role", "add", name }, options) end,
  delete = function(name) return pim.run({ "role", "delete", name }) end,
}

-- `policy set` takes its settings as values (`--require-mfa false`), so true and false are
-- spelled out rather than becoming bare (or absent) flags; a `body` table is sent as JSON.
local function spelled(options)
  if type(options) ~= "table" then return options end
  local out = {}
  for k, v in pairs(options) do
    if type(v) == "boolean" then
      out[k] = tostring(v)
    elseif k == "body" and type(v) == "table" then
      out[k] = pim.json(v)
    else
      out[k] = v
    end
  end
  return out
end

pim.policy = {
  show = function(role) return pim.run({ "policy", "show", role }) end,
  set = function(role, options) return pim.run({ "policy", "set", role }, spelled(options)) end,
}

pim.hook = {
  add = function(name, source, options)
    local ok, result = host.add_hook(name, source, options or {})
    if not ok then fail(result) end
    return result
  end,
  remove = function(name) return pim.run({ "hook", "remove", name }) end,
  list = function() return pim.run({ "hook", "list" }) end,
  show = function(name) return pim.run({ "hook", "show", name }) end,
  --- A dry run: what each handler decides about `request` (Graph JSON, as a table or a string)
  --- and what the request would come to. Nothing is stored. `options.kind` = "eligible"/"active".
  test = function(name, request, options)
    if type(request) == "table" then request = pim.json(request) end
    return pim.run({ "hook", "test", name, "--request", request }, options)
  end,
}

pim.clock = {
  now = function() return host.now() end,
  set = function(t) return pim.run({ "clock", "set", t }) end,
  advance = function(d) return pim.run({ "clock", "advance", d }) end,
}

--- A Graph call through the router: returns the decoded body and the status.
function pim.graph(method, path, body)
  if type(body) == "table" then body = pim.json(body) end
  return host.graph(method, path, body)
end

-- Tables marked by pim.array encode as JSON arrays even when empty.
local ARRAY = { __name = "pim.array" }

--- Marks a table as a JSON array (so `pim.array{}` encodes as [] rather than {}).
function pim.array(t) return setmetatable(t or {}, ARRAY) end

--- A value as one line of JSON, keys sorted: how scripts print a table (`print(t)` shows an
--- address, which differs from run to run), and how request bodies given as tables are sent.
function pim.json(value)
  local t = type(value)
  if t == "string" then
    local named = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r" }
    return '"' .. value:gsub('[%c"\\]', function(c)
      return named[c] or string.format("\\u%04x", c:byte())
    end) .. '"'
  elseif t == "number" then
    return math.type(value) == "integer" and tostring(value) or string.format("%.14g", value)
  elseif t == "nil" or t == "boolean" then
    return tostring(value == nil and "null" or value)
  elseif t ~= "table" then
    error("pim.json: cannot encode a " .. t, 2)
  end
  local n, keys = 0, {}
  for k in pairs(value) do
    n = n + 1
    keys[#keys + 1] = k
  end
  if n == #value and (n > 0 or getmetatable(value) == ARRAY) then
    local items = {}
    for i = 1, n do items[i] = pim.json(value[i]) end
    return "[" .. table.concat(items, ",") .. "]"
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local items = {}
  for _, k in ipairs(keys) do items[#items + 1] = pim.json(tostring(k)) .. ":" .. pim.json(value[k]) end
  return "{" .. table.concat(items, ",") .. "}"
end

--- Runs `fn` as another principal (id, name, UPN or `alice`); `options.mfa = false` drops MFA.
function pim.as(principal, fn, options)
  local ok, e = host.set_caller(principal, not (options and options.mfa == false))
  if not ok then fail(e) end
  local results = table.pack(pcall(fn))
  host.restore_caller()
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

-- Expectations make a script a test.
local passed, failed = 0, 0

function pim.expect(condition, message)
  message = message or "expectation"
  if condition then
    passed = passed + 1
    print("ok - " .. message)
  else
    failed = failed + 1
    print("FAIL - " .. message .. " (" .. host.where() .. ")")
  end
  return condition
end

function pim.expect_eq(actual, expected, message)
  local ok = actual == expected
  if not pim.expect(ok, (message or "values are equal") .. (ok and "" or
      (": expected " .. tostring(expected) .. ", got " .. tostring(actual)))) then
    return false
  end
  return true
end

--- Expects `fn` to fail with pimlab error `code`; returns the error.
function pim.expect_error(code, fn, message)
  local ok, e = pcall(fn)
  message = message or ("fails with " .. code)
  if ok then
    failed = failed + 1
    print("FAIL - " .. message .. ": it succeeded (" .. host.where() .. ")")
    return nil
  end
  local got = type(e) == "table" and e.code or tostring(e)
  if got == code then
    passed = passed + 1
    print("ok - " .. message)
  else
    failed = failed + 1
    print("FAIL - " .. message .. ": got " .. tostring(got) .. " (" .. host.where() .. ")")
  end
  return e
end

function pim.summary() return passed, failed end

return pim
