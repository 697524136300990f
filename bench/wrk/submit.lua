-- POST /executions for jobs that have no execution yet: each of the THREADS threads submits the
-- jobs of its own slice of [FIRST_ID, LAST_ID] in turn, so that no submit meets an active job.
dofile("bench/wrk/common.lua")
local threads = 0

function setup(thread)
  thread:set("slice", threads)
  threads = threads + 1
end

function init(args)
  local size = math.floor((last - first + 1) / tonumber(os.getenv("THREADS")))
  next_job = first + slice * size
end

function request()
  local job = next_job
  next_job = next_job + 1
  return wrk.format("POST", "/masking/api/executions",
    { ["Authorization"] = token, ["Content-Type"] = "application/json" },
    '{"jobId":' .. job .. '}')
end
