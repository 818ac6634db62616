"""The pages' blueprint, its security headers, and rendering a page for a signed-in person."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from ..usecases import capabilities

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/web/static")

# Pages show case data that outside systems wrote: allow only our own scripts, so a value that
# slipped into markup could still not run (the scripts use textContent anyway). Styles allow
# inline attributes because the diagram and table editors set them on their SVG and cells.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "connect-src 'self'; img-src 'self' data: blob:; font-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def secured(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def page(template: str, session, *, title: str, script: str | None = None,
         vendor: tuple[str, ...] = (), **context):
    """Render ``template`` for the signed-in person of ``session``, with what they may do
    (``caps``) for the scripts and the navigation."""
    caps = capabilities.of(session.identity)
    html = render_template(template, title=title, caps=caps, csrf=session.csrf_token,
                           script=script, vendor=vendor, **context)
    return secured(current_app.make_response(html))
