-- Replays pre-built raw HTTP requests: each wrk thread cycles through its own file.
--
-- wrk's Lua has no HMAC, so Python (bench/payloads.py) writes every request ahead of time,
-- already signed and complete (request line, headers, body): thread N reads <prefix>_N.req.
-- Record format: "<byte length>\n<raw request bytes>", repeated.
--
-- Usage: wrk -t2 -c16 -d25s -s bench/lua/replay.lua http://127.0.0.1:PORT -- <prefix> [expect]
--   expect: a substring every 2xx answer must contain (e.g. '<Message' for a relayed text);
--           answers without it are counted as "unexpected".
-- done() prints one line "BENCH_JSON {...}" with throughput, latency percentiles (ms), status
-- counts, and how often a thread ran out of requests and started over ("wrapped": a repeated
-- MessageSid or booking id, which the runner reports).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local prefix = args[1]
  expect = args[2] or ""
  reqs = {}
  local f = assert(io.open(prefix .. "_" .. id .. ".req", "rb"))
  while true do
    local header = f:read("*l")
    if not header then break end
    reqs[#reqs + 1] = f:read(tonumber(header))
  end
  f:close()
  total = #reqs
  idx = 0
  wrapped = 0
  ok = 0
  non2xx = 0
  unexpected = 0
  statuses = {}
end

function request()
  idx = idx + 1
  if idx > total then
    idx = 1
    wrapped = wrapped + 1
  end
  return reqs[idx]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 200 and status < 300 then
    ok = ok + 1
    if expect ~= "" and not string.find(body, expect, 1, true) then
      unexpected = unexpected + 1
    end
  else
    non2xx = non2xx + 1
  end
end

local function json_number(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  return string.format("%.3f", x)
end

function done(summary, latency, requests)
  local t_ok, t_non2xx, t_unexpected, t_wrapped, t_loaded = 0, 0, 0, 0, 0
  local codes = {}
  for _, thread in ipairs(threads) do
    t_ok = t_ok + thread:get("ok")
    t_non2xx = t_non2xx + thread:get("non2xx")
    t_unexpected = t_unexpected + thread:get("unexpected")
    t_wrapped = t_wrapped + thread:get("wrapped")
    t_loaded = t_loaded + thread:get("total")
    for code, n in pairs(thread:get("statuses")) do
      codes[code] = (codes[code] or 0) + n
    end
  end
  local code_parts = {}
  for code, n in pairs(codes) do
    code_parts[#code_parts + 1] = string.format('"%d": %d', code, n)
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local parts = {
    string.format('"requests": %d', summary.requests),
    string.format('"duration_s": %s', json_number(seconds)),
    string.format('"rps": %s', json_number(summary.requests / seconds)),
    string.format('"bytes": %d', summary.bytes),
    string.format('"latency_ms": {"p50": %s, "p90": %s, "p99": %s, "p999": %s, "mean": %s, "max": %s, "stdev": %s}',
      json_number(latency:percentile(50) / 1000), json_number(latency:percentile(90) / 1000),
      json_number(latency:percentile(99) / 1000), json_number(latency:percentile(99.9) / 1000),
      json_number(latency.mean / 1000), json_number(latency.max / 1000),
      json_number(latency.stdev / 1000)),
    string.format('"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}',
      e.connect, e.read, e.write, e.timeout),
    string.format('"status_errors": %d', e.status),
    string.format('"ok": %d', t_ok),
    string.format('"non_2xx": %d', t_non2xx),
    string.format('"unexpected_body": %d', t_unexpected),
    string.format('"wrapped": %d', t_wrapped),
    string.format('"requests_loaded": %d', t_loaded),
    '"statuses": {' .. table.concat(code_parts, ", ") .. '}',
  }
  io.write("BENCH_JSON {" .. table.concat(parts, ", ") .. "}\n")
end
