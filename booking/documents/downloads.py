"""A document as a download: the response both the workspace and the manage link send.

File names may hold letters of any script (a participant's name): they travel as RFC 6266's
`filename*` in UTF-8, with an ASCII `filename` beside it for old clients.
"""
from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Response, current_app


def download(body: bytes, *, mimetype: str, file_name: str) -> Response:
    """`body` as an attachment named `file_name`, never kept in a shared cache (names of people)."""
    response = current_app.response_class(body, mimetype=mimetype)
    try:
        file_name.encode("ascii")
        options = {"filename": file_name}
    except UnicodeEncodeError:
        stem, dot, extension = file_name.rpartition(".")
        ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii").strip("-")
        options = {"filename": f"{ascii_stem or 'document'}{dot}{extension}",
                   "filename*": "UTF-8''" + quote(file_name, safe="!#$&+^`|~")}
    response.headers.set("Content-Disposition", "attachment", **options)
    response.headers["Cache-Control"] = "no-store"
    return response
