dofile(os.getenv("REPORT_LUA"))
-- Order placement over the API: each request is a new order (unique Idempotency-Key) of
-- LINES random SKUs from SKU_FILE, QUANTITY pairs each, for a buyer and account picked at
-- random from BUYERS_FILE (lines "token account": many stores order at once, as in real
-- use; one account's placements queue on its credit check). Environment: BUYERS_FILE,
-- SKU_FILE, LINES, QUANTITY; for the django-oscar peer (bench/oscar), which signs buyers in
-- by session, PLACE_PATH, AUTH_HEADER and AUTH_PREFIX (the token is then a session key).
local skus = {}
for line in io.lines(os.getenv("SKU_FILE")) do skus[#skus + 1] = line end
local lines_per_order = tonumber(os.getenv("LINES") or "10")
local quantity = tonumber(os.getenv("QUANTITY") or "1")
local place_path = os.getenv("PLACE_PATH") or "/api/v1/orders/"
local auth_header = os.getenv("AUTH_HEADER") or "Authorization"
local auth_prefix = os.getenv("AUTH_PREFIX") or "Token "
local buyers = {}
for line in io.lines(os.getenv("BUYERS_FILE")) do
  local token, account = line:match("^(%S+) (%S+)$")
  buyers[#buyers + 1] = {token = token, account = account}
end
local counter = 0
thread_tag = ""  -- global: set per thread by setup()

-- Seed the main state from /dev/urandom: unseeded, every wrk process would hand out the
-- same thread tags, and back-to-back runs in one second would reuse idempotency keys.
local urandom = io.open("/dev/urandom", "rb")
local b1, b2, b3 = urandom:read(3):byte(1, 3)
urandom:close()
math.randomseed(os.time() + b1 * 65536 + b2 * 256 + b3)

setup = function(thread)
  thread:set("thread_tag", tostring(math.random(1, 1e9)))
end

init = function(args)
  math.randomseed(tonumber(thread_tag) or os.time())
end

request = function()
  counter = counter + 1
  local picked, body_lines = {}, {}
  while #body_lines < math.min(lines_per_order, #skus) do
    local sku = skus[math.random(1, #skus)]
    if not picked[sku] then
      picked[sku] = true
      body_lines[#body_lines + 1] = string.format('{"sku": "%s", "quantity": %d}', sku, quantity)
    end
  end
  local buyer = buyers[math.random(1, #buyers)]
  local token, account = buyer.token, buyer.account
  local account_part = string.format('"account": "%s", ', account)
  local body = string.format(
    '{%s"po_number": "BENCH-%s-%d", "backorders": "allow", "lines": [%s]}',
    account_part, thread_tag, counter, table.concat(body_lines, ", "))
  local headers = {
    [auth_header] = auth_prefix .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("bench-%s-%d-%d", thread_tag, counter, os.time()),
  }
  return wrk.format("POST", place_path, headers, body)
end
