-- GET /executions/{id} of a random seeded execution.
dofile("bench/wrk/common.lua")

function request()
  local id = math.random(first, last)
  return wrk.format("GET", "/masking/api/executions/" .. id, { ["Authorization"] = token })
end
