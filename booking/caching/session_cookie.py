"""Flask's signed session cookie, with its signing serializer made once instead of per use.

Flask's SecureCookieSessionInterface builds a new URLSafeTimedSerializer every time it reads or
writes a session cookie (and itsdangerous then serializes a probe value to learn whether the
serializer speaks text): about a third of the cost of signing a cookie. A kept page answered by the
fast lane signs one for every visitor without a session, so the serializer is kept, and made anew
only when the keys change (SECRET_KEY, SECRET_KEY_FALLBACKS). Cookies are the same as Flask's.
"""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self):
        self._serializer = None
        self._keys = None

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys != self._keys:
            self._serializer = super().get_signing_serializer(app)
            self._keys = keys
        return self._serializer
