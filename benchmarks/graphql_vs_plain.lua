-- One request body for wrk (benchmarks/graphql_vs_plain.py): `__NONCE__` in it becomes a value
-- no other request of the run carries (thread number and counter), so that no two requests share
-- a response-cache key; a body without it is sent as it is, again and again.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

local template, counter, salt = nil, 0, ""

function init(args)
  local file = assert(io.open(args[1], "rb"))
  template = file:read("*a")
  file:close()
  salt = tostring(os.time()) .. "-" .. tostring(thread_id)
end

function request()
  counter = counter + 1
  local body = string.gsub(template, "__NONCE__", salt .. "-" .. counter, 1)
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
