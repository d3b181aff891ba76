-- serve.lua - wrk's requests for bench/serve.sh and bench/soak_serve.sh. Arguments after "--":
--   lookup QUERIES.txt          GET /m/lookup, a random query hash each
--   batch BATCHES.txt           POST /v/lookup/batch, a random body (one JSON per line) each
--   upload FILE...              POST /m/lookup, a random photo as multipart each
--   mix QUERIES.txt TOKEN FILE... 80 % lookups, 10 % uploads, 10 % adds (POST /c/bank/BENCH/signal)
-- done() prints one parseable line: requests, failures (socket errors + non-2xx), latency percentiles.
local mode, qs, bodies, photos, token = nil, {}, {}, {}, nil
local boundary = "vigilbenchboundary7MA4YWxkTrZu0gW"

local function multipart(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p\"\r\n" ..
         "Content-Type: application/octet-stream\r\n\r\n" .. data .. "\r\n--" .. boundary .. "--\r\n"
end

function init(args)
  mode = args[1]
  local first = 2
  if mode == "lookup" or mode == "mix" then
    for l in io.lines(args[2]) do qs[#qs + 1] = l end
    first = 3
  end
  if mode == "mix" then token = args[3]; first = 4 end
  if mode == "batch" then
    for l in io.lines(args[2]) do bodies[#bodies + 1] = l end
  end
  if mode == "upload" or mode == "mix" then
    for i = first, #args do photos[#photos + 1] = multipart(args[i]) end
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

local function hex64()
  local t = {}
  for i = 1, 64 do t[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(t)
end

local function lookup()
  return wrk.format("GET", "/m/lookup?signal_type=pdq&signal=" .. qs[math.random(#qs)])
end
local function upload()
  return wrk.format("POST", "/m/lookup",
    {["Content-Type"] = "multipart/form-data; boundary=" .. boundary}, photos[math.random(#photos)])
end

request = function()
  if mode == "lookup" then return lookup() end
  if mode == "batch" then
    return wrk.format("POST", "/v/lookup/batch", {["Content-Type"] = "application/json"}, bodies[math.random(#bodies)])
  end
  if mode == "upload" then return upload() end
  local r = math.random(10)
  if r == 1 then return upload() end
  if r == 2 then
    return wrk.format("POST", "/c/bank/BENCH/signal",
      {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token},
      '{"pdq":"' .. hex64() .. '","note":"soak"}')
  end
  return lookup()
end

function done(s, lat, req)
  local e = s.errors
  io.write(string.format(
    "wrk requests=%d failed=%d socket_errors=%d non2xx=%d seconds=%.2f req_per_s=%.1f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f\n",
    s.requests, e.connect + e.read + e.write + e.timeout + e.status, e.connect + e.read + e.write + e.timeout,
    e.status, s.duration / 1e6, s.requests / (s.duration / 1e6), lat:percentile(50) / 1000, lat:percentile(99) / 1000,
    lat:percentile(99.9) / 1000))
end
