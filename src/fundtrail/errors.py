"""The whole exception tree of fundtrail, in one place.

    FundtrailError                 root: catch this to catch everything of ours
    +-- UserError                  the caller did something wrong; safe message + HTTP status
    |   +-- InvalidInputError      malformed value (address, amount, file row...)   400/422
    |   +-- NotFoundError          no such object, *or* one the caller may not see  404
    |   +-- AuthenticationError    missing/invalid/expired/revoked API key          401
    |   +-- PermissionDeniedError  authenticated but not allowed                    403
    |   +-- ConflictError          duplicate or state clash                         409
    |   +-- PayloadTooLargeError   body over the limit                              413
    |   +-- UnsupportedMediaError  wrong content type                               415
    |   +-- UnavailableError       cannot answer safely right now (retry)           503
    +-- SourceError                an outside source misbehaved (RPC node, file)
    +-- StorageError               our own stores failed (disk, database)

Errors from third-party code are translated where they enter
(``raise SourceError(...) from exc``) so callers never see a foreign type.
"""

from __future__ import annotations


class FundtrailError(Exception):
    """Root of every error fundtrail raises on purpose."""


class UserError(FundtrailError):
    """An error whose message is safe to show to the caller, with an HTTP status."""

    status_code: int = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"error": type(self).__name__, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class InvalidInputError(UserError):
    status_code = 422


class NotFoundError(UserError):
    status_code = 404


class AuthenticationError(UserError):
    status_code = 401


class PermissionDeniedError(UserError):
    status_code = 403


class ConflictError(UserError):
    status_code = 409


class PayloadTooLargeError(UserError):
    status_code = 413


class UnsupportedMediaError(UserError):
    status_code = 415


class UnavailableError(UserError):
    """The request was fine, but it cannot be answered safely right now (e.g. its
    screening decision could not be made durable); the caller should retry."""

    status_code = 503


class SourceError(FundtrailError):
    """A file, RPC node or feed gave us something we cannot use; says which and where."""


class StorageError(FundtrailError):
    """Our own storage failed; nothing already committed is lost."""
