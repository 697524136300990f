-- POST /executions/{id}/cancel?expectedStatus=QUEUED on a random seeded execution.
dofile("bench/wrk/common.lua")

function request()
  local id = math.random(first, last)
  return wrk.format("POST", "/masking/api/executions/" .. id .. "/cancel?expectedStatus=QUEUED",
    { ["Authorization"] = token })
end
