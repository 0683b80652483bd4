-- wrk script: registration POSTs as a browser sends them (bench/run.py, step 4).
--
-- bench/run.py fetches the seminar page once, as a browser does, and passes what it got after
-- `--`: the form's path, the session cookie (the CSRF token belongs to it), the form's fields
-- urlencoded (CSRF token, consent, language... everything but the person), a prefix for the
-- addresses, and the names of accepted associations separated by "|". Each request is then a
-- new person: a fresh last name (letters: names take no digits) and a fresh address, thread by
-- thread. The redirect is not followed; bench/run.py counts the registrations stored afterwards.

local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("thread_number", counter)
end

local path, cookie, fields, prefix
local associations = {}
local sent = 0

function init(args)
   path, cookie, fields, prefix = args[1], args[2], args[3], args[4]
   for name in string.gmatch(args[5], "[^|]+") do
      table.insert(associations, name)
   end
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
   wrk.headers["Cookie"] = cookie
   wrk.headers["Accept-Language"] = "de"
end

local function letters(n)
   local text = ""
   repeat
      local digit = n % 26
      n = (n - digit) / 26
      text = string.char(97 + digit) .. text
   until n == 0
   return text:sub(1, 1):upper() .. text:sub(2)
end

local function escape(text)
   return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
   sent = sent + 1
   local person = thread_number .. "-" .. sent
   local body = fields
      .. "&last_name=" .. escape("Yılmaz-" .. letters(thread_number) .. "-" .. letters(sent))
      .. "&email=" .. escape(prefix .. person .. "@example.org")
      .. "&new_association=" .. escape(associations[(sent % #associations) + 1])
   return wrk.format("POST", path, nil, body)
end
