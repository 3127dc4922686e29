-- wrk script: replay a request plan, one request per line, cycling through the file.
--   WRK_PLAN=/path/plan.tsv wrk -t1 -c32 -d8s -s bench/wrk/plan.lua http://127.0.0.1:PORT
-- Each line of the plan is: METHOD <tab> PATH <tab> API KEY (or empty) <tab> JSON BODY (or empty).
-- Requests are formatted once, in init(), so the Lua side costs nothing per request.
-- Each line is sent once, in order, before any is sent again: write plans hold fresh
-- content on every line (bench/run.py makes them longer than a measurement and flags a
-- measurement that outran its plan, i.e. sent some content twice).
-- done() prints one line "WRKJSON {...}" with counts and latency percentiles (microseconds).

local requests = {}
local next_index = 0

function init(args)
  local path = os.getenv("WRK_PLAN")
  for line in io.lines(path) do
    local method, target, key, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    if method then
      local headers = {}
      if key ~= "" then headers["Authorization"] = "Bearer " .. key end
      if body ~= "" then
        headers["Content-Type"] = "application/json"
      else
        body = nil
      end
      requests[#requests + 1] = wrk.format(method, target, headers, body)
    end
  end
  if #requests == 0 then error("empty plan: " .. tostring(path)) end
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

function done(summary, latency, requests_stats)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f,"stdev":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, latency.stdev))
end
