-- wrk script for bench/floor.py's /form: the same filled-in form again and again, with the session
-- cookie and CSRF token bench/run.py fetched once (passed after `--`: the cookie, the body).
function init(args)
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
   wrk.headers["Cookie"] = args[1]
   wrk.body = args[2]
end
