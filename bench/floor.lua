-- wrk script for bench/floor.py: the same POST again and again (a form with one field).
wrk.method = "POST"
wrk.body = "name=Ay%C5%9Fe+Y%C4%B1lmaz"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
