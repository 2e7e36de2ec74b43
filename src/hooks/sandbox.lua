-- The sandbox prelude: run in every new Lua state before any script (see sandbox.rs, PRELUDE).
local rawnext, sort, type, tostring, setmetatable, error, select = next, table.sort, type, tostring, setmetatable, error, select
local rawpcall, rawxpcall, resume, find = pcall, xpcall, coroutine.resume, string.find
local inner_of = setmetatable({}, { __mode = "k" })
local fill_of = setmetatable({}, { __mode = "k" })
local lazy_of = setmetatable({}, { __mode = "k" })
local extra_of = setmetatable({}, { __mode = "k" })
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
-- Makes a stand-in the plain table it stands for: the pristine fields it has not overwritten
-- are copied in, and it loses the metatable. Any other value is returned as it is.
local function materialize(t)
  local pristine = cow_of[rawgetmetatable(t)]
  if pristine then
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

-- An inner table filled on first use: `fill_of[inner](inner)` puts every field in.
local function filled(inner)
  local fill = fill_of[inner]
  if fill then
    fill(inner)
    fill_of[inner] = nil
  end
  return inner
end

_G.pairs = function(t)
  local keys = {}
  local inner = inner_of[t]
  if inner then
    filled(inner)
    local lazy = lazy_of[t]
    if lazy then for k in rawnext, lazy do local _ = t[k] end end
    for k in rawnext, inner do keys[#keys + 1] = k end
    local extra = extra_of[t]
    if extra then for k in rawnext, extra do if inner[k] == nil then keys[#keys + 1] = k end end end
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
-- every hook and event), while each call gets views of its own (what a script `rawset`s on one
-- stays with that call). An inner table may be filled on first use (`fill_of`, the request);
-- `lazy_of[view][key]` computes one field on first read (into the inner table, so for every view
-- of it: ctx's caller, principal, role and policy); `extra_of[view][key]` adds fields of this
-- view only (a call's query functions).
local view
local shared = {
  __index = function(p, k)
    local extra = extra_of[p]
    if extra then
      local e = extra[k]
      if e ~= nil then return e end
    end
    local inner = inner_of[p]
    local v = inner[k]
    if v == nil and fill_of[inner] then v = filled(inner)[k] end
    if v == nil then
      local lazy = lazy_of[p]
      local load = lazy and lazy[k]
      if load then
        v = load()
        inner[k] = v
        lazy[k] = nil
      end
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
view = function(inner, lazy, extra)
  local proxy = setmetatable({}, shared)
  inner_of[proxy] = inner
  if lazy then lazy_of[proxy] = lazy end
  if extra then extra_of[proxy] = extra end
  return proxy
end

-- A fresh global environment for one call. Nothing one call changes (a global, `string.upper`,
-- `math.random`, a library's metatable) may reach a later call, yet copying the globals and every
-- library table for every call cost more than a short handler. So each call gets copy-on-write
-- stand-ins: its `_G` and each of its library tables start as empty tables that read through
-- (`__index`) to a private pristine copy made when the state began, which no script can reach.
-- A new key is written into the stand-in itself; the first write of a key the pristine copy has
-- (`string.upper = f`, `os.time = nil`), and any raw use (`next`, `pairs`, `rawget`, `rawset`,
-- `setmetatable`), first makes the stand-in a plain full copy, for that call only. `getmetatable`
-- answers nil for a stand-in, as it would for the plain table it stands for. With the
-- environment, a new metatable for strings whose `__index` is that call's `string`.
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
local function fresh_env()
  local env = setmetatable({
    string = setmetatable({}, M1), table = setmetatable({}, M2), math = setmetatable({}, M3),
    utf8 = setmetatable({}, M4), coroutine = setmetatable({}, M5), os = setmetatable({}, M6),
    _G = false,
  }, env_meta)
  rawset(env, "_G", env)
  return env, { __index = env.string }
end

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
local function context_lazy(fields)
  local lazy = {}
  for _, name in ipairs(fields) do lazy[name] = function() return ask(name) end end
  return lazy
end
-- Makes `inner` (an empty table, made by the host at the size a request needs) a request's inner
-- table, filled by the host of the call that first reads it.
local function fill_request(t) ask("request", t) end
local function lazy_request(inner)
  fill_of[inner] = fill_request
  return inner
end

-- Starts a call: its host, a fresh environment, and its own views of the shared request and ctx.
-- Returns the environment, the metatable for strings, the request and ctx.
local function begin(request, ctx, lazy, call_host)
  host = call_host
  local env, string_meta = fresh_env()
  return env, string_meta, view(request), view(ctx, lazy, ctx_functions)
end
-- Runs a hook's chunk in `env` and, when its table has a handler for `event`, that handler.
-- Returns "ok", which handlers the table has (validate, route, completed: true or false), the
-- handler and what it returned; or what is wrong with the table ("not a table"; "unknown" or
-- "not a function", and the key).
local HANDLERS = { validate = true, route = true, completed = true }
local function run(main, env, event, request, ctx)
  local t = main(env)
  if type(t) ~= "table" then return "not a table" end
  for k, v in rawnext, t do
    if HANDLERS[k] == nil then return "unknown", type(k) == "string" and k or "(not a string)" end
    if type(v) ~= "function" then return "not a function", k end
  end
  local validate, route, completed = t.validate ~= nil, t.route ~= nil, t.completed ~= nil
  local handler = t[event]
  if handler == nil then return "ok", validate, route, completed end
  local result = handler(request, ctx)
  return "ok", validate, route, completed, handler, result
end

return {
  view = view, fresh_env = fresh_env, begin = begin, run = run, context_lazy = context_lazy,
  lazy_request = lazy_request,
}
