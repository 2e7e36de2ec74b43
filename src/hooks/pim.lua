-- The `pim` API of scenario scripts and REPL one-liners. Every call is a typed pimlab operation
-- (the same ones the command line runs) applied by the host: `host.op(name, options)` turns the
-- options table into the operation's arguments (keys are the command line's flags, `_` for `-`),
-- and the result comes back as a Lua value; nothing goes through text. `__host` is installed by
-- the runner.
local host = __host
__host = nil

local pim = {}

-- An error from pimlab, built by the host from the structured error: code, status, message,
-- details ({code, target, message}), rules (the policy rules a refused request broke) and kind;
-- prints as "where: Code (HTTP n): message", then one line per detail.
local Error = {}
Error.__index = Error
Error.__tostring = function(e)
  local lines = { string.format("%s%s (HTTP %s): %s", e.where and (e.where .. ": ") or "", e.code, tostring(e.status), e.message) }
  for _, d in ipairs(e.details or {}) do lines[#lines + 1] = "  - " .. d.code .. ": " .. d.message end
  return table.concat(lines, "\n")
end

local function fail(e)
  e.where = host.where()
  error(setmetatable(e, Error), 0)
end

--- Runs the operation `name` with `options`; returns its result.
local function call(name, options)
  local ok, result = host.op(name, options)
  if not ok then fail(result) end
  return result
end

--- Runs a command line (a string, or a list of words) and returns its result, as `--json` shows it.
function pim.run(words, options)
  if type(words) == "string" then words = host.split(words) end
  local argv = {}
  for _, w in ipairs(words) do argv[#argv + 1] = w end
  if options ~= nil then
    if type(options) ~= "table" then error("options must be a table", 2) end
    local keys = {}
    for k in pairs(options) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v, flag = options[k], "--" .. tostring(k):gsub("_", "-")
      if v == true then
        argv[#argv + 1] = flag
      elseif type(v) == "table" then
        for _, item in ipairs(v) do argv[#argv + 1] = flag; argv[#argv + 1] = tostring(item) end
      elseif v ~= false then
        argv[#argv + 1] = flag; argv[#argv + 1] = tostring(v)
      end
    end
  end
  local ok, result = host.command(argv)
  if not ok then fail(result) end
  return result
end

local function op(name)
  return function(options) return call(name, options) end
end

local function admin_actions(kind)
  local t = {}
  for _, verb in ipairs({ "assign", "update", "remove", "extend", "renew", "list" }) do
    t[verb] = op(kind .. "." .. verb)
  end
  return t
end
pim.eligible = admin_actions("eligible")
pim.active = admin_actions("active")
pim.activate = op("activate")
pim.deactivate = op("deactivate")
pim.extend = op("extend")
pim.renew = op("renew")
pim.requests = op("requests")
pim.approvals = op("approvals")
pim.notifications = op("notifications")
pim.audit = op("audit")

-- Who holds (or, with could = true, could hold) a role; what a principal holds.
local function with_first(name, key)
  return function(first, options)
    local args = { [key] = first }
    for k, v in pairs(options or {}) do args[k] = v end
    return call(name, args)
  end
end
pim.who = with_first("who", "role")
pim.access = with_first("access", "principal")
-- The backtest: the history replayed under other settings (policy = "ROLE: SETTING=VALUE ...",
-- or a list of them; source = a hook's Lua source), on a private copy.
pim.replay = op("replay")

-- Properties over time: `source` is the property file's text (scripts read no files).
pim.check = with_first("check", "source")
pim.fuzz = op("fuzz")
-- Reports over the store's history: `pim.report.activity{by = "day"}` (the numbers) and
-- `pim.timeline{role = R}` (the picture: a script cannot write files, so the SVG comes back as
-- the result's `svg`, beside its lanes and marks).
pim.report = { activity = op("report.activity") }
pim.timeline = op("timeline")
-- PIM alerts: pim.alerts() (or pim.alerts{}) gives every alert; pim.alerts.config(),
-- pim.alerts.set(ALERT, {globalAdminCountThreshold = 3}), pim.alerts.dismiss(ALERT),
-- pim.alerts.refresh([ALERT]).
pim.alerts = setmetatable({
  config = op("alerts.config"),
  set = function(alert, settings)
    local pairs_ = {}
    for k, v in pairs(settings or {}) do pairs_[#pairs_ + 1] = tostring(k) .. "=" .. tostring(v) end
    table.sort(pairs_)
    return call("alerts.set", { alert = alert, settings = pairs_ })
  end,
  dismiss = function(alert) return call("alerts.dismiss", { alert = alert }) end,
  refresh = function(alert) return call("alerts.refresh", { alert = alert }) end,
}, { __call = function(_, options) return call("alerts", options) end })

function pim.request(id) return call("request.show", { id = id }) end
function pim.cancel(id) return call("request.cancel", { id = id }) end
function pim.explain(id) return call("request.explain", { id = id }) end
function pim.approve(id, justification) return call("approve", { id = id, justification = justification }) end
function pim.deny(id, justification) return call("deny", { id = id, justification = justification }) end

local function directory(kind)
  return function(name, options)
    local add = { name = name }
    for k, v in pairs(options or {}) do if k ~= "members" then add[k] = v end end
    local object = call(kind .. ".add", add)
    for _, m in ipairs((options or {}).members or {}) do
      call(kind .. ".add_member", { container = object.id, member = type(m) == "table" and m.id or m })
    end
    return object
  end
end
pim.user = directory("user")
pim.group = directory("group")
pim.sp = directory("sp")
pim.au = directory("au")
function pim.add_member(container, member, owner)
  return call("group.add_member", { container = container, member = member, owner = owner or nil })
end
function pim.principal(name) return call("user.show", { name = name }) end

pim.role = {
  show = function(name) return call("role.show", { role = name }) end,
  list = op("role.list"),
  add = function(name, options)
    local args = { name = name }
    for k, v in pairs(options or {}) do args[k] = v end
    return call("role.add", args)
  end,
  delete = function(name) return call("role.delete", { role = name }) end,
}

pim.policy = {
  --- `where`: for an Azure role, the scope whose settings to show; or a table, `{group = G}` for
  --- a group's `member` or `owner` settings (PIM for Groups), `{scope = S}`.
  show = function(role, where)
    if type(where) == "table" then return call("policy.show", { role = role, scope = where.scope, group = where.group }) end
    return call("policy.show", { role = role, scope = where })
  end,
  set = function(role, options)
    local args = { role = role }
    for k, v in pairs(options or {}) do args[k] = v end
    -- A rule body as a table is sent as pim.json gives it (pim.array{} stays an array).
    if type(args.body) == "table" then args.body = pim.json(args.body) end
    return call("policy.set", args)
  end,
}

pim.hook = {
  add = function(name, source, options)
    local args = { name = name, source = source }
    for k, v in pairs(options or {}) do args[k] = v end
    return call("hook.add", args)
  end,
  remove = function(name) return call("hook.remove", { name = name }) end,
  --- New source for a hook, which keeps its place in the order, its role and its scope.
  update = function(name, source) return call("hook.update", { name = name, source = source }) end,
  list = function() return call("hook.list") end,
  show = function(name) return call("hook.show", { name = name }) end,
  --- A dry run: what each handler decides about `request` (Graph JSON, as a table or a string)
  --- and what the request would come to. Nothing is stored. `options.kind` = "eligible"/"active".
  test = function(name, request, options)
    local args = { name = name, request = type(request) == "table" and pim.json(request) or request }
    for k, v in pairs(options or {}) do args[k] = v end
    return call("hook.test", args)
  end,
}

pim.clock = {
  now = function() return host.now() end,
  set = function(t) return call("clock.set", { time = t }) end,
  advance = function(d) return call("clock.advance", { duration = d }) end,
}

--- Applications and their Microsoft Graph permissions (see `pimlab app`): `add(name)`,
--- `grant(app, permission, {application = true})` (without it, a delegated scope),
--- `revoke(app, permission, {application = true})`, `show(app)`. Any call takes `app = NAME` to
--- come through that application: with `as`, for that user; without, as the application itself.
local function app_permission(name, permission, options)
  local args = { name = name, permission = permission }
  for k, v in pairs(options or {}) do args[k] = v end
  return args
end
pim.app = {
  add = function(name, options)
    local args = { name = name }
    for k, v in pairs(options or {}) do args[k] = v end
    return call("app.add", args)
  end,
  grant = function(name, permission, options) return call("app.grant", app_permission(name, permission, options)) end,
  revoke = function(name, permission, options) return call("app.revoke", app_permission(name, permission, options)) end,
  show = function(name) return call("app.show", { name = name }) end,
}

--- The lab's Azure estate (see `pimlab scope`): `add(path, {name = ..., parent = ...})`, `list()`,
--- `show(scope)` (with `ancestors` and `children`), `tree([scope])` (nested `children`).
pim.scope = {
  add = function(path, options)
    local args = { path = path }
    for k, v in pairs(options or {}) do args[k] = v end
    return call("scope.add", args)
  end,
  list = function() return call("scope.list") end,
  show = function(scope) return call("scope.show", { scope = scope }) end,
  tree = function(scope) return call("scope.tree", { scope = scope }) end,
}

--- The store's fidelity profile (see `pimlab config fidelity`): a list of switches, each with its
--- name, whether it is on, its origin and what it changes. `set` turns one on (true) or off.
pim.fidelity = {
  show = function() return call("fidelity.show") end,
  set = function(name, on) return call("fidelity.set", { name = name, state = on }) end,
}

--- A Graph call through the router: returns the decoded body and the status.
function pim.graph(method, path, body)
  if type(body) == "table" then body = pim.json(body) end
  return host.graph(method, path, body)
end

--- An ARM call through its router (`Microsoft.Authorization`): returns the decoded body and the
--- status. The path is what follows https://management.azure.com, api-version included.
function pim.arm(method, path, body)
  if type(body) == "table" then body = pim.json(body) end
  return host.arm(method, path, body)
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
