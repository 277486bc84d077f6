-- The request mix of benchmarks/load.py for wrk (run by it: `python -m benchmarks.load`).
--
-- wrk runs one thread per connection here, so on each thread request() and response()
-- strictly alternate: the thread knows which kind of request each response answers and times
-- it itself (a monotonic clock through LuaJIT's FFI), giving per-kind latencies that wrk's own
-- histogram (one for all requests, with its coordinated-omission correction) cannot.
--
-- Arguments (after `--`): the folder holding the request bodies and receiving the samples,
-- the kinds' cumulative weights ("60,75,90,100"), whether to wait out Retry-After ("1"/"0"),
-- a seed, and the estate's span (two Unix times). Kinds, in order: 1 the same Runs query
-- (answered from the response cache), 2 Runs since a random second of the span with a random
-- `first` (new variables each time), 3 FailedRuns with a random `first`
-- (reads the clock: never cached), 4 an OpenLineage RunEvent (START of a new run, then its
-- COMPLETE, alternately).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } tempox_timespec;
int clock_gettime(int clk_id, tempox_timespec *tp);
]]
local CLOCK_REALTIME, CLOCK_MONOTONIC = 0, 1
local ts = ffi.new("tempox_timespec")

local function now_us(clock)
  ffi.C.clock_gettime(clock, ts)
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

-- The main state: the threads, numbered, so that done() can collect their samples.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

-- A thread's state.
local folder, cumulative, honour_retry_after, span_from, span_to
local cached_request, runs_body, failed_body, start_body, complete_body
local graphql_headers = { ["Content-Type"] = "application/json" }
local current, started, wait_ms = 0, 0, 0
local pending_run, pending_job, sequence, salt = nil, nil, 0, 0
-- Samples, one per response: kind, status, microseconds, 1 if a 2xx carried GraphQL errors.
n, kinds, statuses, latencies, errored, waits = 0, {}, {}, {}, {}, 0

local function read(name)
  local file = assert(io.open(folder .. "/" .. name, "rb"))
  local text = file:read("*a")
  file:close()
  return text
end

function init(args)
  folder = args[1]
  cumulative = {}
  for weight in string.gmatch(args[2], "%d+") do
    table.insert(cumulative, tonumber(weight))
  end
  honour_retry_after = args[3] == "1"
  salt = tonumber(args[4]) % 4294967296
  span_from, span_to = tonumber(args[5]), tonumber(args[6])
  math.randomseed(tonumber(args[4]) * 1000 + thread_id)
  cached_request = wrk.format("POST", "/graphql", graphql_headers, read("cached.json"))
  runs_body = read("runs.json")
  failed_body = read("failed_runs.json")
  start_body = read("lineage_start.json")
  complete_body = read("lineage_complete.json")
  if not honour_retry_after then
    delay = nil -- wrk then never asks before a request
  end
end

local function timestamp()
  local us = now_us(CLOCK_REALTIME)
  return os.date("!%Y-%m-%dT%H:%M:%S", math.floor(us / 1000000))
    .. string.format(".%06dZ", us % 1000000)
end

local function lineage_body()
  if pending_run then
    local body = complete_body:gsub("__RUN__", pending_run):gsub("__JOB__", pending_job)
    pending_run = nil
    return (body:gsub("__TIME__", timestamp()))
  end
  sequence = sequence + 1
  pending_run = string.format(
    "%08x-%04x-4%03x-8%03x-%012x", salt, thread_id, math.random(0, 4095),
    math.random(0, 4095), sequence
  )
  pending_job = tostring(math.random(0, 49))
  local body = start_body:gsub("__RUN__", pending_run):gsub("__JOB__", pending_job)
  return (body:gsub("__TIME__", timestamp()))
end

function request()
  local draw, kind = math.random(1, cumulative[#cumulative]), 1
  while draw > cumulative[kind] do
    kind = kind + 1
  end
  local req
  if kind == 1 then
    req = cached_request
  elseif kind == 2 then
    local since = os.date("!%Y-%m-%dT%H:%M:%SZ", math.random(span_from, span_to))
    local body = runs_body:gsub("987654321", tostring(math.random(1, 200)))
    body = body:gsub("__SINCE__", since)
    req = wrk.format("POST", "/graphql", graphql_headers, body)
  elseif kind == 3 then
    local body = failed_body:gsub("987654321", tostring(math.random(1, 100)))
    req = wrk.format("POST", "/graphql", graphql_headers, body)
  else
    req = wrk.format("POST", "/api/v1/lineage", graphql_headers, lineage_body())
  end
  current = kind
  started = now_us(CLOCK_MONOTONIC)
  return req
end

function response(status, headers, body)
  local spent = now_us(CLOCK_MONOTONIC) - started
  n = n + 1
  kinds[n], statuses[n], latencies[n] = current, status, spent
  errored[n] = 0
  if current <= 3 and status < 300 and body:find('"errors"', 1, true) then
    errored[n] = 1
  end
  if status == 503 and honour_retry_after then
    local after = tonumber(headers["retry-after"] or headers["Retry-After"] or "")
    if after then
      wait_ms = math.floor(after * 1000)
      waits = waits + 1
    end
  end
end

function delay()
  local ms = wait_ms
  wait_ms = 0
  return ms
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("TEMPOX_LOAD_FOLDER") .. "/samples.tsv", "w"))
  local total_waits = 0
  for _, thread in ipairs(threads) do
    local count = thread:get("n")
    local k, s, l, e = thread:get("kinds"), thread:get("statuses"),
      thread:get("latencies"), thread:get("errored")
    for i = 1, count do
      out:write(k[i], "\t", s[i], "\t", l[i], "\t", e[i], "\n")
    end
    total_waits = total_waits + thread:get("waits")
  end
  out:close()
  local errors = summary.errors
  local meta = assert(io.open(os.getenv("TEMPOX_LOAD_FOLDER") .. "/summary.json", "w"))
  meta:write(string.format(
    '{"duration_us": %d, "requests": %d, "bytes": %d, "connect": %d, "read": %d, '
      .. '"write": %d, "timeout": %d, "status": %d, "retry_after_waits": %d, '
      .. '"wrk_p50_us": %d, "wrk_p99_us": %d}\n',
    summary.duration, summary.requests, summary.bytes, errors.connect, errors.read,
    errors.write, errors.timeout, errors.status, total_waits,
    latency:percentile(50), latency:percentile(99)
  ))
  meta:close()
end
