"""The floor of a registration POST: a bare Flask app that, per POST, takes the same seminar lock
and INSERTs one row in one transaction, with SQLAlchemy Core's connection and no form, no ORM,
no CSRF, no session. bench/run.py serves it beside the app and hello (same gunicorn settings) and
prints its ratio to hello: what any POST that commits to this database can reach on this machine,
next to the registration POST's target (issue #19)."""
import os

from flask import Flask, redirect, request
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine(os.environ["DATABASE_URL"], pool_size=1)
SEMINAR_ID = int(os.environ["FLOOR_SEMINAR_ID"])
LOCK = text("SELECT id FROM seminars WHERE id = :id" + ("" if engine.dialect.name == "sqlite" else " FOR UPDATE"))
INSERT = text("INSERT INTO bench_floor (seminar_id, name) VALUES (:id, :name)")


@app.get("/")
def ready():
    return "floor"


@app.post("/")
def register():
    with engine.begin() as connection:
        connection.execute(LOCK, {"id": SEMINAR_ID})
        connection.execute(INSERT, {"id": SEMINAR_ID, "name": request.form.get("name", "")})
    return redirect("/", 303)
