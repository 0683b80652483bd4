"""The language links in every page's footer lead to this page in another language, on this site.

They are built from the matched route, never from the requested path: a path such as `/\\evil.example`
or `//evil.example` would otherwise give links a browser resolves to another site. Links are resolved
here as a browser does (WHATWG URL parsing: tabs and newlines dropped, `\\` read as `/`).
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, unquote_to_bytes, urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.extensions import db
from booking.registrations.services import manage_token

from tests.factories import make_registration, make_seminar, make_topic

SITE = "http://localhost"
OTHER_LANGUAGES = {"de", "tr", "ar"}  # the pages below are asked for in English


class Links(HTMLParser):
    """Every URL a page makes the browser follow or submit to; language links separately."""

    def __init__(self):
        super().__init__()
        self.language_links: dict[str, str] = {}
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "src", "action", "formaction"):
            if attrs.get(name) is not None:
                self.urls.append(attrs[name])
        if tag == "a" and attrs.get("hreflang"):
            self.language_links[attrs["hreflang"]] = attrs["href"]


def page_links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def browser_url(base: str, reference: str) -> str:
    """Resolve `reference` against `base` as a browser does for an http(s) page."""
    def clean(url):
        url = url.strip("".join(map(chr, range(0x21))))  # leading and trailing C0 controls and spaces
        return re.sub("[\t\n\r]", "", url).replace("\\", "/")
    return urljoin(clean(base), clean(reference))


def get_raw(client, raw_path: str, method: str = "GET", query: str = ""):
    """Send `raw_path` as a server would pass it on (percent-escapes decoded), and the query as a
    browser sends it (percent-encoded where needed)."""
    path_info = unquote_to_bytes(raw_path).decode("latin-1")
    query_string = quote(query, safe="!$%&'()*+,-./:;=?@_~")
    return client.open("/", method=method, environ_overrides={"PATH_INFO": path_info, "QUERY_STRING": query_string},
                       headers={"Accept-Language": "en"})


def assert_everything_stays_on_site(response, raw_path: str):
    page_url = SITE + raw_path
    links = page_links(response.get_data(as_text=True))
    assert set(links.language_links) == OTHER_LANGUAGES, raw_path
    for url in links.urls:
        resolved = urlsplit(browser_url(page_url, url))
        assert (resolved.scheme, resolved.netloc) == ("http", "localhost"), (raw_path, url)
    return links


OFF_SITE_PATHS = [
    "/\\evil.example", "//evil.example", "/%5Cevil.example", "/%5cevil.example", "/\t/evil.example",
    "/\n/evil.example", "/%09/evil.example", "/%2F/evil.example", "///evil.example", "/\\/evil.example",
    "/ /evil.example", "/\\\\evil.example", "//evil.example/seminars", "//evil.example:80/%2e%2e",
    "/\\@evil.example", "//user@evil.example", "/%5C%5Cevil.example", "//ｅｖｉｌ.example",
]


@pytest.mark.parametrize("raw_path", OFF_SITE_PATHS)
def test_language_links_on_the_not_found_page_lead_home_on_this_site(client, raw_path):
    response = get_raw(client, raw_path, query="topic=x")

    assert response.status_code == 404
    links = assert_everything_stays_on_site(response, raw_path)
    for code, href in links.language_links.items():
        assert href == f"/?lang={code}"


def test_language_links_on_the_method_not_allowed_page_lead_home(client):
    response = get_raw(client, "//evil.example", method="POST")
    assert response.status_code in (404, 405)
    response = client.post("/privacy", headers={"Accept-Language": "en"})
    assert response.status_code == 405
    links = assert_everything_stays_on_site(response, "/privacy")
    assert links.language_links["de"] == "/?lang=de"


# (no NUL: under a known route it reaches the database, where PostgreSQL refuses it; the NUL fix of
# issue 14 has its own tests)
SEPARATORS = ["/", "//", "\\", "/\\", "%5C", "%5c", "%2F", "%2f", "\t", "\n", "\r", " ", "%09", "%0A", "%0d",
              "@", ":", "..", ".", "%2e%2e", "?", "#", "%3F", "%23", "%01"]
HOSTS = ["evil.example", "evil.example:80", "127.0.0.1", "[::1]", "user:pw@evil.example", "ｅｖｉｌ．example",
         "javascript:alert(1)", "http:", "https://evil.example"]
# the bare "/" most often: under it a path of its own can start with a second slash or a backslash
ROUTES = ["/"] * 8 + ["/seminars/", "/registrations/", "/associations/contact/", "/static/", "/associations/",
                      "/seminars/x/", "/calendar.ics/"]
any_text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=6)
odd_paths = st.builds(
    lambda route, separator, host, rest: route + separator + host + "".join(rest),
    st.sampled_from(ROUTES),
    st.sampled_from(["", *SEPARATORS]),
    st.one_of(st.sampled_from(HOSTS), any_text),
    st.lists(st.one_of(st.sampled_from(SEPARATORS), st.sampled_from(HOSTS), any_text), max_size=4),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw_path=odd_paths)
def test_on_any_path_every_link_on_the_page_stays_on_this_site(client, raw_path):
    path, _, query = raw_path.partition("?")
    response = get_raw(client, path, query=query)

    assert response.status_code < 500, raw_path
    if response.status_code in (301, 302, 303, 307, 308):
        assert urlsplit(browser_url(SITE + path, response.location)).netloc == "localhost"
        return
    if "text/html" in response.content_type:
        assert_everything_stays_on_site(response, path)


# --- normal pages keep the page and its query --------------------------------------------------------

def language_link(client, url: str, code: str = "de", **kwargs) -> tuple[str, list[tuple[str, str]]]:
    response = client.open(url, headers={"Accept-Language": "en"}, **kwargs)
    assert response.status_code < 500
    href = page_links(response.get_data(as_text=True)).language_links[code]
    parts = urlsplit(href)
    assert not parts.scheme and not parts.netloc
    return parts.path, parse_qsl(parts.query, keep_blank_values=True)


def seeded(app, build):
    with app.app_context():
        result = build()
        db.session.commit()
        return result


def test_catalogue_language_links_keep_the_filters(app, client):
    seeded(app, lambda: make_seminar(topic=make_topic(slug="vereinsrecht")))

    path, query = language_link(client, "/?topic=vereinsrecht&language=tr&month=2030-01&lang=en&lang=ar", "tr")

    assert path == "/"
    assert query == [("topic", "vereinsrecht"), ("language", "tr"), ("month", "2030-01"), ("lang", "tr")]
    # and the link opens the same filtered catalogue, in Turkish
    response = client.get(f"{path}?topic=vereinsrecht&language=tr&month=2030-01&lang=tr")
    assert '<html lang="tr"' in response.get_data(as_text=True)
    assert '<option selected value="vereinsrecht">' in response.get_data(as_text=True)


def test_seminar_manage_and_lost_link_pages_keep_their_address(app, client):
    token = seeded(app, lambda: manage_token(make_registration(make_seminar(slug="vereinsrecht"))))

    assert language_link(client, "/seminars/vereinsrecht") == ("/seminars/vereinsrecht", [("lang", "de")])
    assert language_link(client, f"/registrations/{token}", "ar") == (f"/registrations/{token}", [("lang", "ar")])
    assert language_link(client, "/lost-link?x=1") == ("/lost-link", [("x", "1"), ("lang", "de")])
    # a page not found under a known route stays at that (quoted) address on this site
    assert language_link(client, "/seminars/%5Cevil.example") == ("/seminars/%5Cevil.example", [("lang", "de")])


def test_after_a_refused_post_the_language_link_leads_to_the_page_by_get(app, client):
    seeded(app, lambda: make_seminar(slug="vereinsrecht"))

    path, query = language_link(client, "/seminars/vereinsrecht/register", method="POST", data={"first_name": ""})

    assert (path, query) == ("/seminars/vereinsrecht/register", [("lang", "de")])
    followed = client.get(f"{path}?lang=de")
    assert followed.status_code == 302 and followed.location.startswith("/seminars/vereinsrecht")
