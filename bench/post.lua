-- wrk script for bench/run: POSTs one hook event (BENCH_BODY, a file) with
-- the bearer token BENCH_TOKEN, and prints one machine-readable line at the
-- end. Each request gets a new request id from the server (no X-Request-Id).
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d accepted=%d non2xx=%d sockerr=%d duration_us=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.requests - e.status, e.status,
    e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
