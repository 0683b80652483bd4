"""The yardstick: a bare Flask "hello" app, served by bench/run.py exactly as the booking app is
(same gunicorn settings), so every figure is a ratio to what Flask itself manages on this machine."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
