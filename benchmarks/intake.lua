-- wrk script for benchmarks/intake.py: each request a new ticket (unique Idempotency-Key) or a read of one.
-- args: mode (create|read|bare-create|bare-read) token customer_id max_id run_id
local counter = 0
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function init(args)
  mode, token, customer, maxid, run = args[1], args[2], args[3], tonumber(args[4]), args[5]
  auth = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
end

function request()
  counter = counter + 1
  if mode == "create" then
    local body = '{"customer_id":' .. customer .. ',"category":"repair","channel":"hotline",' ..
                 '"subject":"保险柜无法开启 #' .. counter .. '","description":"客户来电报修"}'
    local h = { ["Authorization"] = auth["Authorization"], ["Content-Type"] = "application/json",
                ["Idempotency-Key"] = run .. "-" .. tid .. "-" .. counter }
    return wrk.format("POST", "/api/v1/tickets", h, body)
  elseif mode == "read" then
    return wrk.format("GET", "/api/v1/tickets/" .. (counter % maxid + 1), auth)
  elseif mode == "bare-create" then
    return wrk.format("POST", "/items", { ["Content-Type"] = "application/json" },
                      '{"subject":"保险柜无法开启 #' .. counter .. '"}')
  else
    return wrk.format("GET", "/items/" .. (counter % maxid + 1))
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
