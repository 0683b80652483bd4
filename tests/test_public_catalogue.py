"""The public catalogue: what shows, in which order and month, with which availability; the filters."""
import re
from datetime import timedelta

from booking.extensions import db
from booking.formatting import to_local
from booking.seminars.models import SeminarStatus, SessionStatus

from tests.factories import make_registration, make_seminar, make_topic, now


def at(days: int, hours: float = 2):
    start = now().replace(minute=0, second=0, microsecond=0) + timedelta(days=days)
    return start, start + timedelta(hours=hours)


def month_key(seminar) -> str:
    return to_local(seminar.first_start).strftime("%Y-%m")


def sections(page: str) -> dict[str, list[str]]:
    """{"YYYY-MM": [seminar titles in page order]} for each month section of the catalogue."""
    result = {}
    for key, body in re.findall(r'<section class="month" aria-labelledby="month-([\d-]+)">(.*?)</section>', page, re.S):
        result[key] = re.findall(r'<h3><a href="/seminars/[^"]+">([^<]+)</a></h3>', body)
    return result


def seeded(app, build):
    """Run `build` in an app context, commit, and return what it returns (plain values only)."""
    with app.app_context():
        result = build()
        db.session.commit()
        return result


def test_only_published_upcoming_seminars_in_date_order_grouped_by_month(app, client):
    def build():
        later = make_seminar(title="Later", sessions=[at(70), at(77)])
        sooner = make_seminar(title="Sooner", sessions=[at(3)])
        make_seminar(title="Next day", sessions=[at(4)])
        make_seminar(title="Draft", status=SeminarStatus.DRAFT, sessions=[at(5)])
        make_seminar(title="Cancelled", status=SeminarStatus.CANCELLED, sessions=[at(6)])
        make_seminar(title="Over", sessions=[at(-10), at(-3)])
        all_off = make_seminar(title="All sessions cancelled", sessions=[at(8)])
        all_off.sessions[0].status = SessionStatus.CANCELLED
        return month_key(sooner), month_key(later)

    sooner_month, later_month = seeded(app, build)
    page = client.get("/").get_data(as_text=True)

    shown = sections(page)
    assert [title for titles in shown.values() for title in titles] == ["Sooner", "Next day", "Later"]
    assert list(shown) == sorted(shown)  # months in date order
    assert shown[later_month] == ["Later"]
    assert shown[sooner_month][0] == "Sooner"
    for hidden in ("Draft", "Cancelled", "Over", "All sessions cancelled"):
        assert hidden not in page


def test_entry_shows_topic_languages_place_and_every_session(app, client):
    def build():
        seminar = make_seminar(title="Vereinsrecht kompakt", topic=make_topic(name="Vereinsrecht"),
                               languages="de ar", venue_name="Stadtbibliothek", sessions=[at(10), at(17)])
        seminar.sessions[1].status = SessionStatus.CANCELLED

    seeded(app, build)
    page = client.get("/").get_data(as_text=True)
    card = re.search(r'<li class="card">(.*?)</li>\s*</ul>', page, re.S).group(1)
    assert "Vereinsrecht kompakt" in card and "Vereinsrecht" in card
    assert "German and Arabic" in card
    assert "Stadtbibliothek" in card
    assert card.count('<li class="session') == 2
    assert "Cancelled" in card


def test_availability_texts(app, client):
    def build():
        free = make_seminar(title="Free", capacity=3, sessions=[at(5)])
        make_registration(free)
        full = make_seminar(title="Full", capacity=1, sessions=[at(6)])
        make_registration(full)
        make_seminar(title="Closed", registration_deadline=now() - timedelta(hours=1), sessions=[at(7)])

    seeded(app, build)
    page = client.get("/").get_data(as_text=True)

    def availability(title):
        return re.search(rf'>{title}</a></h3>\s*<span class="availability[^"]*">([^<]+)</span>', page).group(1)

    assert availability("Free") == "2 places left"
    assert availability("Full") == "Fully booked – waiting list"
    assert availability("Closed") == "Registration closed"


def test_filters_combine_and_survive_reload(app, client):
    def build():
        org = make_topic(slug="organisation", name="Organisation")
        law = make_topic(slug="vereinsrecht", name="Vereinsrecht")
        make_seminar(title="Org German", topic=org, languages="de", sessions=[at(5)])
        make_seminar(title="Org Turkish", topic=org, languages="de tr", sessions=[at(6)])
        make_seminar(title="Law Turkish", topic=law, languages="tr", sessions=[at(7)])
        late = make_seminar(title="Org Turkish later", topic=org, languages="tr", sessions=[at(70)])
        return month_key(late)

    late_month = seeded(app, build)

    page = client.get("/?topic=organisation&language=tr").get_data(as_text=True)
    titles = [t for ts in sections(page).values() for t in ts]
    assert titles == ["Org Turkish", "Org Turkish later"]
    # the chosen values are selected again, so a reload or a bookmark keeps them
    assert '<option selected value="organisation">' in page
    assert '<option selected value="tr">' in page

    page = client.get(f"/?topic=organisation&language=tr&month={late_month}").get_data(as_text=True)
    assert [t for ts in sections(page).values() for t in ts] == ["Org Turkish later"]
    assert f'<option selected value="{late_month}">' in page

    page = client.get("/?topic=vereinsrecht&language=de").get_data(as_text=True)
    assert sections(page) == {}
    assert "No upcoming seminar matches these filters." in page


def test_invalid_filter_values_are_ignored_with_a_message(app, client):
    seeded(app, lambda: make_seminar(title="Any", sessions=[at(5)]))
    response = client.get("/?topic=../../etc&language=xx&month=2027-13")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is no such topic; seminars of all topics are shown." in page
    assert "There is no such language; seminars in all languages are shown." in page
    assert "This is not a month; seminars of all months are shown." in page
    assert 'id="topic-error"' in page and 'aria-describedby="topic-error"' in page
    assert "Any" in page


def test_empty_catalogue_says_so(app, client):
    page = client.get("/").get_data(as_text=True)
    assert "There are no upcoming seminars at the moment." in page


def test_page_language_and_direction_follow_the_switcher(client):
    page = client.get("/?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    # the choice is remembered for the next page
    page = client.get("/privacy").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    page = client.get("/?lang=de").get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in page
    assert 'href="/?lang=tr"' in page


def test_month_filter_offers_the_months_of_upcoming_published_seminars_only(app, client):
    def build():
        soon = make_seminar(title="Soon", sessions=[at(5)])
        later = make_seminar(title="Later", sessions=[at(70)])
        make_seminar(title="Draft", status=SeminarStatus.DRAFT, sessions=[at(130)])
        return sorted({month_key(soon), month_key(later)})

    months = seeded(app, build)
    page = client.get("/").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="month"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'value="(\d{4}-\d{2})"', select) == months


def test_month_filter_finds_a_seminar_by_any_of_its_sessions(app, client):
    def build():
        long_course = make_seminar(title="Long course", sessions=[at(5), at(70)])
        make_seminar(title="Only later", sessions=[at(71)])
        make_seminar(title="Only soon", sessions=[at(6)])
        second = [s for s in long_course.sessions if s.starts_at > now() + timedelta(days=60)][0]
        return to_local(second.starts_at).strftime("%Y-%m"), month_key(long_course)

    later_month, first_month = seeded(app, build)
    if later_month == first_month:  # pragma: no cover - 65 days apart are always two months
        raise AssertionError("the sessions must lie in two months")
    page = client.get(f"/?month={later_month}").get_data(as_text=True)
    # found under the month of its second session, though it starts earlier
    assert sections(page) == {later_month: ["Long course", "Only later"]}
    select = re.search(r'<select[^>]*name="month"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'value="(\d{4}-\d{2})"', select) == sorted({first_month, later_month})


def test_language_filter_offers_only_languages_upcoming_seminars_are_taught_in(app, client):
    def build():
        make_seminar(title="German and Arabic", languages="de ar", sessions=[at(5)])
        make_seminar(title="Turkish, over", languages="tr", sessions=[at(-5)])
        make_seminar(title="Russian draft", languages="ru", status=SeminarStatus.DRAFT, sessions=[at(5)])

    seeded(app, build)
    page = client.get("/").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="language"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'value="(\w*)"', select) == ["", "de", "ar"]
    # a known language nobody teaches in now (an old bookmark) stays chosen, with an empty list
    page = client.get("/?language=tr").get_data(as_text=True)
    assert '<option selected value="tr">' in page and sections(page) == {}
    assert "No upcoming seminar matches these filters." in page


def test_filters_are_folded_away_until_used_and_reset_shows_only_when_one_is_set(app, client):
    seeded(app, lambda: make_seminar(title="Any", languages="de", sessions=[at(5)]))
    page = client.get("/?lang=en").get_data(as_text=True)
    assert '<details class="filters-fold">' in page  # closed: the seminars come first on a phone
    assert "Reset filters" not in page
    page = client.get("/?language=de").get_data(as_text=True)
    assert '<details class="filters-fold" open>' in page
    assert "(1 filter set)" in page and "Reset filters" in page


def test_a_full_seminar_says_how_long_the_waiting_list_is_and_its_button_joins_it(app, client):
    def build():
        full = make_seminar(title="Full", slug="full", capacity=1, sessions=[at(6)])
        for _ in range(3):
            make_registration(full)
        empty_list = make_seminar(title="Just full", slug="just-full", capacity=1, sessions=[at(7)])
        make_registration(empty_list)

    seeded(app, build)
    catalogue = client.get("/").get_data(as_text=True)
    assert "2 people are waiting" in catalogue and "Nobody is waiting yet" in catalogue
    page = client.get("/seminars/full").get_data(as_text=True)
    assert "2 people are waiting" in page
    assert re.search(r'<input[^>]*type="submit"[^>]*value="Join the waiting list"', page)
    assert 'value="Register"' not in page


def test_interpreting_the_office_can_arrange_is_shown(app, client):
    seeded(app, lambda: make_seminar(title="With interpreting", slug="interpreted", interpreting_available=True,
                                     sessions=[at(5)]))
    seeded(app, lambda: make_seminar(title="Without", slug="plain", sessions=[at(6)]))
    assert "Interpreting into other languages can be arranged." in client.get("/seminars/interpreted").get_data(
        as_text=True)
    assert "Interpreting" not in client.get("/seminars/plain").get_data(as_text=True)
    card = re.search(r'With interpreting</a></h3>(.*?)</li>', client.get("/").get_data(as_text=True), re.S).group(1)
    assert "Interpreting can be arranged" in card


def test_a_favicon_is_linked_and_served(client):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.svg" type="image/svg+xml">' in page
    for url in ("/favicon.svg", "/favicon.ico", "/static/favicon.svg"):
        with client.get(url) as response:
            assert response.status_code == 200 and response.mimetype == "image/svg+xml"
            assert response.get_data(as_text=True).startswith("<svg")
