"""``/login``, ``/logout`` and the language switch: the pages around a session."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException
from litestar.params import Body
from litestar.response import Redirect, Template

from web import i18n
from web.auth import sign_in
from web.pages import PAGE

_ = i18n.gettext


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute or protocol-relative URL (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class LoginForm(msgspec.Struct):
    username: str = ""
    password: str = ""
    next: str = "/"


@get("/login", opt={"access": "public", **PAGE}, include_in_schema=False)
async def login_page(request: Request, next: str = "/") -> Template | Redirect:
    if request.session and request.session.get("user_id"):
        return Redirect(safe_next(next), status_code=303)
    return Template("login.html", context={"next": safe_next(next), "username": ""})


@post("/login", opt={"access": "public", **PAGE}, include_in_schema=False)
async def login_submit(request: Request, data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Template | Redirect:
    try:
        await sign_in(request, data.username, data.password)
    except (NotAuthorizedException, TooManyRequestsException) as refused:
        status = refused.status_code
        message = _("Tên đăng nhập hoặc mật khẩu không đúng.") if status == 401 else _(
            "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.")
        return Template("login.html", status_code=status, context={"next": safe_next(data.next), "username": data.username,
                                                                   "error": message})
    return Redirect(safe_next(data.next), status_code=303)


@post("/logout", opt={"access": "public", **PAGE}, include_in_schema=False)
async def logout_submit(request: Request) -> Redirect:
    request.clear_session()
    return Redirect("/login", status_code=303)


class LanguageForm(msgspec.Struct):
    lang: str = i18n.DEFAULT_LOCALE
    next: str = "/"


@post("/lang", opt={"access": "public", **PAGE}, include_in_schema=False)
async def choose_language(request: Request, data: Annotated[LanguageForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Redirect:
    """Remember the chosen language in the session (staff and attendees alike)."""
    if data.lang in i18n.LOCALES:
        session = dict(request.session or {})
        session[i18n.SESSION_LOCALE_KEY] = data.lang
        request.set_session(session)
    return Redirect(safe_next(data.next), status_code=303)


SESSION_PAGES = [login_page, login_submit, logout_submit, choose_language]
