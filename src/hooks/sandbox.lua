-- The sandbox prelude: run in every new Lua state before any script (see sandbox.rs, PRELUDE).
local rawnext, sort, type, tostring, setmetatable, error, select = next, table.sort, type, tostring, setmetatable, error, select
local rawpcall, rawxpcall, resume, find = pcall, xpcall, coroutine.resume, string.find
local inner_of = setmetatable({}, { __mode = "k" })
local load_of = setmetatable({}, { __mode = "k" })
local kids_of = setmetatable({}, { __mode = "k" })

-- What the host gives the prelude, taken into locals before any script runs (a script can
-- replace any global, but not these): `guard(kind, ...)` charges a library call's work to the
-- budget (and says when its result is empty); `spent()` is the error that ended the run, if the
-- budget or the deadline has.
local rawget, guard, spent = rawget, __sandbox_guard, __sandbox_spent
_G.__sandbox_guard, _G.__sandbox_spent = nil, nil
local closeco = coroutine.close

-- The budget, the deadline and memory errors end the script: protected calls let them through.
-- Once the run has ended, every protected call raises that error again, whatever error it caught
-- (a `__close` handler's, an error handler's), so nothing can turn it into one a script catches.
local function fatal(e)
  -- pimlab errors are tables (a refused request may quote a hook's budget error): not fatal.
  if type(e) == "table" then return false end
  return find(tostring(e), "not enough memory", 1, true) ~= nil
end
local function rethrow(ok, ...)
  local ended = spent()
  if ended then error(ended, 0) end
  if not ok and fatal((...)) then error((...), 0) end
  return ok, ...
end
_G.pcall = function(f, ...) return rethrow(rawpcall(f, ...)) end
_G.xpcall = function(f, handler, ...)
  return rethrow(rawxpcall(f, function(e) if spent() or fatal(e) then return e end return handler(e) end, ...))
end
coroutine.resume = function(co, ...) return rethrow(resume(co, ...)) end
coroutine.close = function(co) return rethrow(closeco(co)) end

-- Copy-on-write stand-ins for the globals and library tables (see `fresh_env` below): `cow_of`
-- maps each stand-in metatable to the pristine table it reads through to.
local rawgetmetatable, rawset = getmetatable, rawset
local cow_of = {}
-- Set by every way a script can change a table it shares with later calls (a global, a library
-- table, a view): a write through a stand-in's `__newindex`, a stand-in made plain, `rawset`,
-- `setmetatable`. While it is clear, the next call may reuse this call's environment and views
-- (see `call` below).
local dirty = false
-- Makes a stand-in the plain table it stands for: the pristine fields it has not overwritten
-- are copied in, and it loses the metatable. Any other value is returned as it is.
local function materialize(t)
  local pristine = cow_of[rawgetmetatable(t)]
  if pristine then
    dirty = true
    setmetatable(t, nil)
    for k, v in rawnext, pristine do
      if rawget(t, k) == nil then rawset(t, k, v) end
    end
  end
  return t
end
local function cow_meta(pristine)
  local mt = {
    __index = pristine,
    -- Only keys the stand-in lacks come here; a pristine one is overwritten in a full copy, so
    -- that setting it to nil later cannot uncover the pristine value again.
    __newindex = function(t, k, v)
      dirty = true
      if pristine[k] ~= nil then materialize(t) end
      rawset(t, k, v)
    end,
  }
  cow_of[mt] = pristine
  return mt
end
_G.getmetatable = function(v)
  local mt = rawgetmetatable(v)
  if cow_of[mt] then return nil end
  return mt
end
_G.rawget = function(t, k)
  local v = rawget(t, k)
  if v == nil then
    local pristine = cow_of[rawgetmetatable(t)]
    if pristine then return pristine[k] end
  end
  return v
end
_G.rawset = function(t, k, v)
  dirty = true
  local pristine = cow_of[rawgetmetatable(t)]
  if pristine and pristine[k] ~= nil then materialize(t) end
  return rawset(t, k, v)
end
_G.next = function(t, k)
  return rawnext(materialize(t), k)
end

-- Finalizers would run with the budget switched off (Lua disables hooks in them). Lua 5.4 marks
-- an object for finalisation only when its metatable has `__gc` as it is set, so refusing it
-- here (with the `rawget` taken above) is enough.
-- (Assigned through _G: `function setmetatable` would rebind the local of the same name.)
_G.setmetatable = function(t, mt)
  dirty = true
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("__gc metamethods are not allowed in the sandbox", 2)
  end
  -- The built-in's own errors ("cannot change a protected metatable") name the caller's line.
  local ok, result = rawpcall(setmetatable, materialize(t), mt)
  if not ok then error(result, 2) end
  return result
end

-- Library functions that can run long or allocate much inside one C call, where the instruction
-- hook cannot stop them, charge their work to the budget first (the pattern functions are the
-- host's own, counting matcher). Tail calls, so their errors name the script's line.
-- `os.date("*t")` and `os.date("!*t")` (exactly, as in Lua: any other format is text, the
-- host's alone, by a tail call so that its errors name the script's line): the host gives the
-- fields, the table is made here.
local host_date, date_fields = os.date, __sandbox_date_fields
_G.__sandbox_date_fields = nil
os.date = function(format, time)
  if format == "*t" or format == "!*t" then
    local year, month, day, hour, min, sec, wday, yday = date_fields(format, time)
    return { year = year, month = month, day = day, hour = hour, min = min, sec = sec,
             wday = wday, yday = yday, isdst = false }
  end
  return host_date(format, time)
end
local rep = string.rep
string.rep = function(s, n, sep)
  if guard("rep", s, n, sep) then return "" end
  return rep(s, n, sep)
end
-- `small(...)` says a call is too small to cost a step of the budget (1,000 instructions), so it
-- runs without asking the host: most calls a hook makes (`("x"):upper()`, a `string.format` of a
-- few values) are, and a call into the host costs more than the call itself.
local SMALL = 4096
local mtype = math.type
local function short_strings(n, ...)
  if n > 16 then return false end
  for i = 1, n do
    local v = (select(i, ...))
    if type(v) == "string" and #v > SMALL then return false end
  end
  return true
end
local function span(i, j)
  return (i == nil or mtype(i) == "integer") and mtype(j) == "integer" and j - (i or 1) < SMALL
end
local small = {
  bytes = function(s) return type(s) == "string" and #s <= SMALL end,
  format = function(...) return short_strings(select("#", ...), ...) end,
  count = function(...) return select("#", ...) <= 64 end,
  move = function(_, f, e) return mtype(f) == "integer" and mtype(e) == "integer" and e - f < SMALL end,
  -- `#t` as the functions themselves take it (a `__len` included).
  concat = function(t, _, i, j) return type(t) == "table" and span(i, j or #t) end,
  unpack = function(t, i, j) return type(t) == "table" and span(i, j or #t) end,
  sort = function(t) return type(t) == "table" and #t < 256 end,
}
local function charged(lib, name, kind)
  local f, is_small = lib[name], small[kind]
  lib[name] = function(...)
    if not is_small(...) then guard(kind, ...) end
    return f(...)
  end
end
charged(table, "move", "move")
charged(table, "concat", "concat")
charged(table, "unpack", "unpack")
charged(table, "sort", "sort")
charged(string, "format", "format")
for _, name in ipairs({ "byte", "upper", "lower", "reverse" }) do charged(string, name, "bytes") end
for _, name in ipairs({ "len", "codepoint", "offset" }) do charged(utf8, name, "bytes") end
charged(utf8, "char", "count")
charged(string, "char", "count")

local function before(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

-- An inner table whose fields are loaded as they are read: `load_of[inner](inner, key)` loads one
-- field (and returns it), `load_of[inner](inner)` every field not loaded yet.
local function filled(inner)
  local load = load_of[inner]
  if load then
    load(inner)
    load_of[inner] = nil
  end
  return inner
end

_G.pairs = function(t)
  local keys = {}
  local inner = inner_of[t]
  if inner then
    filled(inner)
    for k in rawnext, inner do keys[#keys + 1] = k end
  else
    for k in rawnext, materialize(t) do keys[#keys + 1] = k end
  end
  sort(keys, before)
  local i = 0
  return function()
    i = i + 1
    local k = keys[i]
    if k ~= nil then return k, t[k] end
  end, t, nil
end

-- Read-only views. A view is an empty table whose one shared metatable reads through to an inner
-- table that no script can reach; a nested table is shown as a view of its own, made on first
-- read and kept by its parent. The inner tables can therefore be shared (one request's values by
-- every hook of an event, one `ctx` by every event of a request), while a view is only shared by
-- calls that changed nothing (see `call`). An inner table may load its fields as they are read
-- (`load_of`: the request's objects, ctx's caller, principal, role, policy and query functions),
-- into itself, so for every view of it.
local view
local shared = {
  __index = function(p, k)
    local inner = inner_of[p]
    local v = inner[k]
    if v == nil then
      local load = load_of[inner]
      if load == nil then return nil end
      v = load(inner, k)
    end
    if type(v) == "table" then
      local kids = kids_of[p]
      if not kids then
        kids = {}
        kids_of[p] = kids
      end
      local kid = kids[k]
      if kid == nil then
        kid = view(v)
        kids[k] = kid
      end
      return kid
    end
    return v
  end,
  __newindex = function(_, k) error("attempt to change read-only field '" .. tostring(k) .. "'", 2) end,
  __len = function(p) return #filled(inner_of[p]) end,
  __metatable = "read-only",
}
view = function(inner)
  local proxy = setmetatable({}, shared)
  inner_of[proxy] = inner
  return proxy
end

-- A fresh global environment for one call. Nothing one call changes (a global, `string.upper`,
-- `math.random`, a library's metatable) may reach a later call, yet copying the globals and every
-- library table for every call cost more than a short handler. So each environment is made of
-- copy-on-write stand-ins: its `_G` and each of its library tables start as empty tables that read
-- through (`__index`) to a private pristine copy made when the state began, which no script can
-- reach. A new key is written into the stand-in itself; the first write of a key the pristine copy
-- has (`string.upper = f`, `os.time = nil`), and any raw use (`next`, `pairs`, `rawget`, `rawset`,
-- `setmetatable`), first makes the stand-in a plain full copy, for that call only. `getmetatable`
-- answers nil for a stand-in, as it would for the plain table it stands for. With the environment,
-- a new metatable for strings whose `__index` is that call's `string`.
local LIBS = { "string", "table", "math", "utf8", "coroutine", "os" }
local function copy(t)
  local c = {}
  for k, v in rawnext, t do c[k] = v end
  return c
end
local base = copy(_G)
base._G = nil
local lib_meta = {}
for i = 1, #LIBS do
  lib_meta[i] = cow_meta(copy(_G[LIBS[i]]))
  base[LIBS[i]] = nil
end
local env_meta = cow_meta(base)

-- (One table constructor, so the environment is made at its final size.)
local M1, M2, M3, M4, M5, M6 = lib_meta[1], lib_meta[2], lib_meta[3], lib_meta[4], lib_meta[5], lib_meta[6]
assert(LIBS[1] == "string" and LIBS[6] == "os" and #LIBS == 6, "sandbox: fresh_env names the libraries")
-- The metatable for strings is a stand-in too, over nothing: a key written into it (`__add`) sets
-- `dirty` like any other, and `getmetatable` hides that it has a metatable of its own.
local string_meta_meta = cow_meta({})
local function fresh_env()
  local env = setmetatable({
    string = setmetatable({}, M1), table = setmetatable({}, M2), math = setmetatable({}, M3),
    utf8 = setmetatable({}, M4), coroutine = setmetatable({}, M5), os = setmetatable({}, M6),
    _G = false,
  }, env_meta)
  rawset(env, "_G", env)
  return env, setmetatable({ __index = env.string }, string_meta_meta)
end

-- The environment the last call ran in, its metatable for strings, and its stand-ins (an untouched
-- environment is these seven slots and nothing else).
local env, string_meta, S1, S2, S3, S4, S5, S6
-- A hook's `ctx` queries and its policy go through the host of the call under way (a function the
-- host gives each call, gone when the call ends); these wrappers are made once and shared.
local host
local function ask(kind, arg)
  if host == nil then error("ctx is only usable while the hook runs", 3) end
  return host(kind, arg)
end
local ctx_functions = {
  eligibilities = function(filter) return ask("eligibilities", filter) end,
  assignments = function(filter) return ask("assignments", filter) end,
  groups = function(principal) return ask("groups", principal) end,
}
-- The fields an inner table loads are asked of the host of the call under way, each once per
-- inner table (`asked_of[inner]`, so a field that is nil is not asked for again): a request's
-- plain values all at once on its first read, as `host("plain", inner)`, and its objects as
-- `host("request", name)`, or every property not read yet, for `pairs` and `#`, as
-- `host("request", inner)`; ctx's `CONTEXT_FIELDS` as `host(name)`.
local asked_of = setmetatable({}, { __mode = "k" })
local function first_ask(inner, k)
  local asked = asked_of[inner]
  if asked == nil then
    asked = {}
    asked_of[inner] = asked
  elseif asked[k] then
    return false
  end
  asked[k] = true
  return true
end
-- (`true` is no property's name: the key under which `asked_of` remembers the plain values.)
local PLAIN = true
local function load_request(inner, k)
  if k == nil then
    ask("request", inner)
    return nil
  end
  if not first_ask(inner, k) then return nil end
  if first_ask(inner, PLAIN) then
    ask("plain", inner)
    local v = rawget(inner, k)
    if v ~= nil then return v end
  end
  local v = ask("request", k)
  if v ~= nil then inner[k] = v end
  return v
end
local CONTEXT_FIELDS = {}
local function context_fields(names)
  for i = 1, #names do CONTEXT_FIELDS[names[i]] = true end
end
local function load_context(inner, k)
  if k == nil then
    for name in rawnext, CONTEXT_FIELDS do load_context(inner, name) end
    for name, f in rawnext, ctx_functions do inner[name] = f end
    return nil
  end
  local f = ctx_functions[k]
  if f ~= nil then
    inner[k] = f
    return f
  end
  if not CONTEXT_FIELDS[k] or not first_ask(inner, k) then return nil end
  local v = ask(k)
  if v ~= nil then inner[k] = v end
  return v
end
-- Inner tables already given their loader (a view made again after a call changed its own must
-- not load again what was loaded).
local known = setmetatable({}, { __mode = "k" })

-- The views the last call was given, of which inner tables; reused by the next call when it views
-- the same ones (the hooks of one event) and the last call changed nothing.
local views_of_request, views_of_ctx, request_view, ctx_view

-- Runs a hook's chunk in `env` and, when its table has a handler for `event`, that handler.
-- Returns which handlers the table has (a sum of 1 for validate, 2 for route, 4 for completed)
-- and, when it has a handler for the event, `false` if that returned nil, or the handler and what
-- it returned; or what is wrong with the table: -1 (not a table), -2 and the key (an unknown key),
-- -3 and the key (not a function). (Numbers, and the handler only when there is a decision to
-- convert, keep the common answer cheap to hand back.)
local HANDLERS = { validate = 1, route = 2, completed = 4 }
local function run(main, event, request, ctx)
  local t = main(env)
  if type(t) ~= "table" then return -1 end
  local handlers = 0
  for k, v in rawnext, t do
    local bit = HANDLERS[k]
    if bit == nil then return -2, type(k) == "string" and k or "(not a string)" end
    if type(v) ~= "function" then return -3, k end
    handlers = handlers + bit
  end
  local handler = t[event]
  if handler == nil then return handlers end
  local result = handler(request, ctx)
  if result == nil then return handlers, false end
  return handlers, handler, result
end

-- One hook call: `host` answers its queries and first reads until the next call; its chunk `main`
-- and the handler for `event` run (see `run`) in an environment no earlier call has changed, with
-- views that no earlier call has changed of the request and ctx inner tables (made empty by the
-- host, the request's, or with its plain values, ctx's; both load the rest as it is read). When the
-- last call left its environment untouched (the usual case), this one reuses it, and its views
-- too if they are of the same inner tables; otherwise it returns "fresh", a new environment and
-- metatable for strings, which the host installs (as the state's globals, for `load`, and as the
-- strings' metatable) before it calls again.
local function call(main, event, request, ctx, call_host)
  host = call_host
  -- Whether the last call left its environment as it found it. Every write into a stand-in (the
  -- environment's new keys, a library, the metatable for strings) sets `dirty`; what does not
  -- (assigning one of the environment's own seven slots, `string = nil`; the metatable for strings'
  -- `__index`) is compared here. (`==` runs no script code: a table with an `__eq` of a script's
  -- can only come from `setmetatable`, which sets `dirty`.)
  if dirty or env == nil or env.string ~= S1 or env.table ~= S2 or env.math ~= S3 or env.utf8 ~= S4
    or env.coroutine ~= S5 or env.os ~= S6 or env._G ~= env or string_meta.__index ~= S1 then
    env, string_meta = fresh_env()
    S1, S2, S3, S4, S5, S6 = env.string, env.table, env.math, env.utf8, env.coroutine, env.os
    views_of_request, views_of_ctx = nil, nil
    dirty = false
    return "fresh", env, string_meta
  end
  if views_of_request ~= request or views_of_ctx ~= ctx then
    if not known[request] then
      known[request] = true
      load_of[request] = load_request
    end
    if not known[ctx] then
      known[ctx] = true
      load_of[ctx] = load_context
    end
    request_view, ctx_view = view(request), view(ctx)
    views_of_request, views_of_ctx = request, ctx
  end
  return run(main, event, request_view, ctx_view)
end

return { call = call, context_fields = context_fields }
