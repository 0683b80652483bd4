"""The Python load generator: a browser's steps, without a browser.

wrk measures plain GETs best; a registration needs what wrk cannot do simply: fetch the form,
keep its session cookie and CSRF token, fill in fresh names and addresses, post it. This module
does that with the standard library only (one connection per request, as gunicorn's sync workers
close each), and also loads plain GETs when wrk is not installed.
"""
from __future__ import annotations

import http.client
import statistics
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

TIMEOUT = 120


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    cookies: dict[str, str]
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def request(port: int, method: str, path: str, *, headers: dict | None = None, cookies: dict | None = None,
            form: list[tuple[str, str]] | None = None) -> Response:
    """One request on a fresh loopback connection; cookies are sent and read by hand (the
    production session cookie is Secure, which a cookie jar would not send over plain HTTP)."""
    return prepare(port, method, path, headers=headers, cookies=cookies, form=form).send()


@dataclass
class Prepared:
    """A request made ready to go: its bytes encoded and, with `connect`, its connection open, so that
    sending it costs the client as little as possible (the rush sends hundreds at one moment)."""

    connection: http.client.HTTPConnection
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None

    def send(self) -> Response:
        started = time.perf_counter()
        try:
            self.connection.request(self.method, self.path, body=self.body, headers=self.headers)
            answer = self.connection.getresponse()
            data = answer.read()
            got_cookies = {}
            for name, value in answer.getheaders():
                if name.lower() == "set-cookie":
                    pair = value.split(";", 1)[0]
                    cookie_name, _, cookie_value = pair.partition("=")
                    got_cookies[cookie_name.strip()] = cookie_value.strip()
            return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, got_cookies, data,
                            time.perf_counter() - started)
        finally:
            self.connection.close()


def prepare(port: int, method: str, path: str, *, headers: dict | None = None, cookies: dict | None = None,
            form: list[tuple[str, str]] | None = None, connect: bool = False) -> Prepared:
    headers = dict(headers or {})
    body = None
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    if form is not None:
        body = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    if connect:
        connection.connect()
    return Prepared(connection, method, path, headers, body)


class FormParser(HTMLParser):
    """The fields of the first form whose action ends with `action_suffix`, with their values as sent."""

    def __init__(self, action_suffix: str):
        super().__init__()
        self.action_suffix = action_suffix
        self.inside = False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("action") or "").endswith(self.action_suffix):
            self.inside = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "checkbox", "radio"):
            self.fields[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select:
            if not self.fields[self._select] or "selected" in attrs:
                self.fields[self._select] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None


def form_fields(html: str, action_suffix: str) -> dict[str, str]:
    parser = FormParser(action_suffix)
    parser.feed(html)
    if "csrf_token" not in parser.fields:
        raise RuntimeError(f"no form posting to ...{action_suffix} with a CSRF token on the page")
    return parser.fields


@dataclass
class Browser:
    """One visitor: a language, the session cookie the site gave, the form it showed."""

    port: int
    language: str = "de"
    cookies: dict[str, str] = field(default_factory=dict)

    def get(self, path: str) -> Response:
        response = request(self.port, "GET", path, headers={"Accept-Language": self.language},
                           cookies=self.cookies)
        self.cookies.update(response.cookies)
        return response

    def prepare_post(self, path: str, form: list[tuple[str, str]], *, connect: bool = False) -> Prepared:
        """The POST ready to send (see Prepared); the answer's cookies are not kept."""
        return prepare(self.port, "POST", path, headers={"Accept-Language": self.language}, cookies=self.cookies,
                       form=form, connect=connect)

    def post(self, path: str, form: list[tuple[str, str]], *, keep_cookies: bool = True) -> Response:
        response = request(self.port, "POST", path, headers={"Accept-Language": self.language},
                           cookies=self.cookies, form=form)
        if keep_cookies:
            self.cookies.update(response.cookies)
        return response


def letters(n: int) -> str:
    """A number written in letters (names take no digits): 0 -> "a", 27 -> "bb"."""
    text = ""
    while True:
        n, digit = divmod(n, 26)
        text = "abcdefghijklmnopqrstuvwxyz"[digit] + text
        if not n:
            return text.capitalize()


def single_form(fields: dict[str, str], n: int, prefix: str, association_name: str) -> list[tuple[str, str]]:
    """The registration form filled in for person `n` of an association with a fresh address."""
    values = dict(fields)
    values.update(new_association=association_name, first_name="Ayşe", last_name=f"Yılmaz-{letters(n)}", email=f"{prefix}{n}@example.org",
                  preferred_language=values.get("preferred_language") or "de", consent="y", submit="1")
    values["website"] = ""  # the honeypot stays empty, as a person leaves it
    return list(values.items())


def group_form(fields: dict[str, str], n: int, prefix: str, association_name: str, size: int) -> list[tuple[str, str]]:
    """The group form filled in by contact `n` for `size` members of an association."""
    values = {key: value for key, value in fields.items() if not key.startswith("participants-")}
    values.update(contact_first_name="Mehmet", contact_last_name=f"Kaya-{letters(n)}",
                  contact_email=f"{prefix}contact{n}@example.org", new_association=association_name,
                  consent="y", submit="1", website="")
    for row in range(size):
        values[f"participants-{row}-first_name"] = "Layla"
        values[f"participants-{row}-last_name"] = f"Haddad-{letters(n)}-{letters(row)}"
        values[f"participants-{row}-email"] = f"{prefix}member{n}-{row}@example.org"
        values[f"participants-{row}-preferred_language"] = "ar"
    return list(values.items())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered))) - 1))]


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]
    bad: int  # answers other than the expected status

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)


def load(clients: int, seconds: float, one_request) -> LoadResult:
    """`clients` threads call `one_request(client_index, n)` (returning True when the answer was the
    expected one) as fast as they can for `seconds`; requests under way at the end are counted."""
    lock = threading.Lock()
    latencies: list[float] = []
    bad = [0]
    deadline = time.perf_counter() + seconds

    def run(index: int) -> None:
        n = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = one_request(index, n)
            elapsed = time.perf_counter() - started
            n += 1
            with lock:
                latencies.append(elapsed)
                if not ok:
                    bad[0] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(len(latencies), time.perf_counter() - started, latencies, bad[0])
