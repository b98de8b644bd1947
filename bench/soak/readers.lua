-- The soak's readers (bench/soak/readers.py runs it): wrk cycles through the paths given
-- after `--` (the first argument is a think time in ms between a connection's requests),
-- counts every answer by tenth of a second of wall-clock time and status, keeps the first body
-- of each kind of error, and counts error bodies that show a stack trace or a driver error.
-- Each wrk thread has its own Lua state; done() gathers them through the thread objects
-- setup() kept.

local threads = {}

-- Debian's wrk embeds LuaJIT, whose FFI reads the clock to the millisecond; plain Lua only
-- has os.time(), whole seconds, which would blur the moment the database went down.
local ok, ffi = pcall(require, "ffi")
local tenths
if ok then
   ffi.cdef([[
      typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
      int clock_gettime(int clock_id, soak_timespec *tp);
   ]])
   local now = ffi.new("soak_timespec")
   tenths = function()
      ffi.C.clock_gettime(0, now) -- CLOCK_REALTIME, as Python's time.time()
      return tonumber(now.tv_sec) * 10 + math.floor(tonumber(now.tv_nsec) / 100000000)
   end
else
   tenths = function()
      return os.time() * 10
   end
end

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

function init(args)
   think_ms = tonumber(args[1]) or 0
   paths = {}
   for index = 2, #args do
      table.insert(paths, args[index])
   end
   -- Threads start at different places in the list, so the mix is even from the start.
   next_path = (thread_number * 7) % #paths + 1
   buckets = {}
   kinds = {}
   samples = {}
   leaks = 0
   leak_sample = ""
end

function request()
   local path = paths[next_path]
   next_path = next_path % #paths + 1
   return wrk.format("GET", path)
end

function delay()
   return think_ms
end

local leak_words = { "Traceback", "OperationalError", "InterfaceError", "psycopg", 'File "/' }

function response(status, headers, body)
   local key = tenths() .. "\t" .. status
   buckets[key] = (buckets[key] or 0) + 1
   if status < 400 then
      return
   end
   -- Errors are told apart by status, content type and Retry-After: the app sends
   -- Retry-After with a 503 for a database that is unavailable, not with one for a query
   -- stopped by PUBLIC_QUERY_SECONDS.
   local content_type = headers["Content-Type"] or ""
   local sample_key = status .. "\t" .. content_type .. "\t" .. (headers["Retry-After"] or "")
   kinds[sample_key] = (kinds[sample_key] or 0) + 1
   if samples[sample_key] == nil then
      samples[sample_key] = string.sub(body or "", 1, 300)
   end
   for _, word in ipairs(leak_words) do
      if body and string.find(body, word, 1, true) then
         leaks = leaks + 1
         if leak_sample == "" then
            leak_sample = string.sub(body, 1, 600)
         end
         break
      end
   end
end

local function hex(text)
   return (string.gsub(text, ".", function(c) return string.format("%02x", string.byte(c)) end))
end

function done(summary, latency, requests)
   local all_buckets, all_samples, all_kinds, all_leaks, first_leak = {}, {}, {}, 0, ""
   for _, thread in ipairs(threads) do
      for key, count in pairs(thread:get("buckets")) do
         all_buckets[key] = (all_buckets[key] or 0) + count
      end
      for key, body in pairs(thread:get("samples")) do
         if all_samples[key] == nil then
            all_samples[key] = body
         end
      end
      for key, count in pairs(thread:get("kinds")) do
         all_kinds[key] = (all_kinds[key] or 0) + count
      end
      all_leaks = all_leaks + thread:get("leaks")
      if first_leak == "" then
         first_leak = thread:get("leak_sample")
      end
   end
   for key, count in pairs(all_buckets) do
      io.write("bucket\t", key, "\t", count, "\n")
   end
   for key, body in pairs(all_samples) do
      io.write("sample\t", key, "\t", all_kinds[key], "\t", hex(body), "\n")
   end
   io.write("leaks\t", all_leaks, "\t", hex(first_leak), "\n")
end
