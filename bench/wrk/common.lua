-- Shared by the wrk scripts (run from the repository root): the token and the id range from the
-- environment, a random seed per thread and per run, and one RESULT line for bench/bench.py api.
token = os.getenv("MASKD_TOKEN")
first = tonumber(os.getenv("FIRST_ID"))
last = tonumber(os.getenv("LAST_ID"))

-- wrk's main Lua state starts with the same random sequence in every run, so without this each
-- round would replay the ids of the round before (cancelling, the second time, executions already
-- CANCELLED).
math.randomseed(os.time())

function setup(thread)
  thread:set("seed", math.random(1, 2147483647))
end

function init(args)
  math.randomseed(seed)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
