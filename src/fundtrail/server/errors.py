"""Every error the server answers, as JSON ``{error, message, field}``, from one function.

A :class:`UserError` keeps its status and safe message; request validation
becomes 422 (400 for malformed JSON) naming the field; anything else is a 500
with no stack trace or internal detail (it is logged on the server).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fundtrail.errors import UserError

log = logging.getLogger("fundtrail.server")

_HTTP_NAMES = {
    400: "BadRequest",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    413: "PayloadTooLargeError",
    415: "UnsupportedMediaError",
    422: "InvalidInputError",
}


def error_body(
    status: int, message: str, field: str | None = None, error: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"error": error or _HTTP_NAMES.get(status, "Error"), "message": message}
    if field is not None:
        body["field"] = field
    return body


def error_response(exc: Exception) -> JSONResponse:
    """The one mapping from an exception to the HTTP answer the caller sees."""
    headers: dict[str, str] = {}
    if isinstance(exc, UserError):
        status, body = exc.status_code, exc.to_dict()
    elif isinstance(exc, RequestValidationError):
        status, body = _validation(exc)
    elif isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        body = error_body(status, detail)
        headers = dict(exc.headers or {})
    else:
        log.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
        status, body = (
            500,
            error_body(
                500, "internal error; the server log has the details", error="InternalError"
            ),
        )
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="fundtrail"')
    return JSONResponse(body, status_code=status, headers=headers)


def _validation(exc: RequestValidationError) -> tuple[int, dict[str, Any]]:
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        ctx = first.get("ctx") or {}
        return 400, error_body(
            400,
            f"malformed JSON body: {ctx.get('error', 'cannot parse')}",
            error="InvalidInputError",
        )
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = ".".join(loc) or None
    msg = str(first.get("msg", "invalid request"))
    where = f"{field}: " if field else ""
    extra = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return 422, error_body(422, f"{where}{msg}{extra}", field, error="InvalidInputError")


def install(app: FastAPI) -> None:
    """Route every exception type through :func:`error_response`."""

    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        return error_response(exc)

    for kind in (UserError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, handle)
