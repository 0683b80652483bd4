"""The floor of a registration POST: a bare Flask app that, per POST, takes the same seminar lock
and INSERTs one row in one transaction, with SQLAlchemy Core's connection and no form, no ORM,
no CSRF, no session. bench/run.py serves it beside the app and hello (same gunicorn settings) and
prints its ratio to hello: what any POST that commits to this database can reach on this machine,
next to the registration POST's target (issue #19).

`/form` is the same POST behind what every form of the app has in front of its statements: the
session cookie, a Flask-WTF form with its CSRF token and four fields checked (first and last
name, an address, the consent), then the same lock and INSERT: the floor of any form POST on this stack."""
import os

from flask import Flask, redirect, request
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from sqlalchemy import create_engine, text
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import DataRequired, Length, Regexp

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
engine = create_engine(os.environ["DATABASE_URL"], pool_size=1)
SEMINAR_ID = int(os.environ["FLOOR_SEMINAR_ID"])
LOCK = text("SELECT id FROM seminars WHERE id = :id" + ("" if engine.dialect.name == "sqlite" else " FOR UPDATE"))
INSERT = text("INSERT INTO bench_floor (seminar_id, name) VALUES (:id, :name)")


class FloorForm(FlaskForm):
    first_name = StringField(validators=[DataRequired(), Length(max=100)])
    last_name = StringField(validators=[DataRequired(), Length(max=100)])
    email = EmailField(validators=[DataRequired(), Length(max=254), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")])
    consent = BooleanField(validators=[DataRequired()])


def insert(name: str) -> None:
    with engine.begin() as connection:
        connection.execute(LOCK, {"id": SEMINAR_ID})
        connection.execute(INSERT, {"id": SEMINAR_ID, "name": name})


@app.get("/")
def ready():
    return "floor"


@app.post("/")
def register():
    insert(request.form.get("name", ""))
    return redirect("/", 303)


@app.get("/form")
def form_token():
    return generate_csrf()


@app.post("/form")
def register_with_form():
    form = FloorForm()
    if not form.validate_on_submit():
        return str(form.errors), 422
    insert(f"{form.first_name.data} {form.last_name.data}"[:200])
    return redirect("/form", 303)
