"""``/avaliacao/{token}`` (public): the one-click 1–5 satisfaction rating after an agreement.

The link in the message opens a pt-BR page with five buttons; the click posts the rating,
which is stored once (a second answer keeps the first). A link with a wrong signature, or
for a survey that doesn't exist, answers 404 without saying which.
"""

from __future__ import annotations

from aiohttp import web

from dialer.regua.links import verify
from storage.repositories import regua as repo
from web.auth.access import public, public_with_own_csrf
from web.auth.responses import render_page
from web.keys import CLOCK, CONFIG, DB, DB_READ

RATINGS = (1, 2, 3, 4, 5)


async def _nonce(request: web.Request) -> str | None:
    secret = request.app[CONFIG].regua.link_secret
    return None if not secret else verify(request.match_info["token"], secret)


def _not_found(request: web.Request) -> web.Response:
    return render_page(request, "avaliacao.html", {"state": "invalid"}, status=404)


@public
async def rating_page(request: web.Request) -> web.Response:
    nonce = await _nonce(request)
    if nonce is None:
        return _not_found(request)
    async with request.app[DB_READ]() as db:
        survey = await repo.survey_by_nonce(db, nonce)
    if survey is None:
        return _not_found(request)
    state = "done" if survey.rating is not None else "ask"
    return render_page(request, "avaliacao.html", {"state": state, "rating": survey.rating, "ratings": RATINGS,
                                                   "token": request.match_info["token"]})


@public_with_own_csrf  # no session here: the signed token in the path is the only credential
async def rate(request: web.Request) -> web.Response:
    nonce = await _nonce(request)
    if nonce is None:
        return _not_found(request)
    form = await request.post()
    try:
        rating = int(str(form.get("nota", "")))
    except ValueError:
        rating = 0
    if rating not in RATINGS:
        return render_page(request, "avaliacao.html", {"state": "ask", "ratings": RATINGS, "rating": None,
                                                       "token": request.match_info["token"],
                                                       "error": "Escolha uma nota de 1 a 5."}, status=422)
    async with request.app[DB].begin() as db:
        if await repo.survey_by_nonce(db, nonce) is None:
            return _not_found(request)
        stored = await repo.rate_survey(db, nonce, rating, at=request.app[CLOCK]())
        survey = await repo.survey_by_nonce(db, nonce)
    assert survey is not None
    return render_page(request, "avaliacao.html", {"state": "thanks" if stored else "done", "rating": survey.rating})


def setup_rating(app: web.Application) -> None:
    app.router.add_get("/avaliacao/{token}", rating_page, name="avaliacao")
    app.router.add_post("/avaliacao/{token}", rate, name="avaliacao_post")
