-- wrk's side of a benchmark case (bench/wrk.ts runs `wrk ... -s bench/wrk.lua URL -- FILE THREADS`).
-- FILE holds the case's planned requests, written by bench/wrk.ts, fields separated by tabs (a tab,
-- newline, carriage return or backslash inside a field is escaped as \t, \n, \r, \\):
--   line 1: the answer check: kind, the success prefix, then kind's texts:
--           equals <body> | hit-or-miss <hit text> <miss body> | contains <text>
--   then one request a line: method, path, body (empty: none).
-- Every request is formatted once in init(), so request() only steps through a table (wrk calls it for
-- every request: the cheaper it is, the less CPU the generator takes from the server).
-- response() classifies every answer; done() adds up the threads' counts and prints one line,
-- "WRK-RESULT {json}", which bench/wrk.ts parses.

local threads = {}

-- Runs in the main Lua state, once per thread, before the thread's init().
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function unescape(s)
  return (s:gsub("\\(.)", { t = "\t", n = "\n", r = "\r", ["\\"] = "\\" }))
end

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = unescape(field)
  end
  return fields
end

function init(args)
  local file = assert(io.open(args[1], "r"))
  local check = split(file:read("*l"))
  kind, prefix, text, missBody = check[1], check[2], check[3], check[4]
  prefixLength = #prefix
  requests = {}
  local host = wrk.headers["Host"]
  for line in file:lines() do
    local f = split(line)
    local headers = { Host = host }
    local body = nil
    if f[3] ~= nil and f[3] ~= "" then
      body = f[3]
      headers["Content-Type"] = "application/x-www-form-urlencoded"
    end
    requests[#requests + 1] = wrk.format(f[1], f[2], headers, body)
  end
  file:close()
  count = #requests
  -- Threads start at different places in the list, so two threads do not send the same requests.
  local nthreads = tonumber(args[2]) or 1
  first = math.floor(count * id / nthreads)
  index = first
  answered, ok, hits, misses, wrong, non2xx = 0, 0, 0, 0, 0, 0
  samples = {}
end

function request()
  index = index + 1
  if index > count then index = 1 end
  return requests[index]
end

-- The answer cannot be matched to its request here (one thread multiplexes many connections and wrk
-- does not say which request an answer belongs to), so this is what can be checked of any answer.
function response(status, headers, body)
  answered = answered + 1
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
  if status == 200 then
    if kind == "equals" then
      if body == text then ok = ok + 1; return end
    elseif body:sub(1, prefixLength) == prefix then
      if kind == "hit-or-miss" then
        if body:find(text, 1, true) then hits = hits + 1; return end
        if body == missBody then misses = misses + 1; return end
      elseif body:find(text, 1, true) then
        ok = ok + 1; return
      end
    end
  end
  wrong = wrong + 1
  if #samples < 5 then samples[#samples + 1] = "HTTP " .. status .. " " .. body:sub(1, 300) end
end

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, _)
  local perThread = {}
  for _, t in ipairs(threads) do
    local quoted = {}
    for _, s in ipairs(t:get("samples")) do quoted[#quoted + 1] = quote(s) end
    perThread[#perThread + 1] = string.format(
      '{"first":%d,"answered":%d,"ok":%d,"hits":%d,"misses":%d,"wrong":%d,"non2xx":%d,"samples":[%s]}',
      t:get("first"), t:get("answered"), t:get("ok"), t:get("hits"), t:get("misses"), t:get("wrong"), t:get("non2xx"),
      table.concat(quoted, ","))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-RESULT {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d},"threads":[%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, e.status, table.concat(perThread, ",")))
end
