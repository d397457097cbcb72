"""The exception tree. User errors (bad input, a failing function) are kept apart from edgesim bugs.

An invocation that fails does not raise: it answers an ``InvocationResult`` whose ``error`` says
why. ``InvocationResult.raise_for_error()`` turns that into FunctionExecutionError or
FunctionValidationError for callers (tests, scripts) that prefer an exception.

EdgesimError
 ├ InputError (ValueError)          a file, flag or config value the user gave is invalid
 │  └ EventError                    the event JSON does not have CloudFront's shape
 ├ FunctionError                    something about the user's function
 │  ├ FunctionLoadError             unreadable source, size limit, syntax error, compat rule broken
 │  ├ FunctionExecutionError        uncaught exception, rejected promise, runaway code, memory
 │  └ FunctionValidationError       the function returned something CloudFront would reject
 ├ KvsError
 │  ├ KvsImportError (InputError)   an import-format file that CloudFront would refuse
 │  └ KvsApiError                   a KVS API call refused; carries the AWS error code and status
 │     ├ KvsValidationError         ValidationException, 400
 │     ├ KvsQuotaExceeded           ServiceQuotaExceededException, 402
 │     ├ KvsNotFound                ResourceNotFoundException, 404
 │     └ KvsConflict                ConflictException, 409
 └ NotEmulated                      a platform feature edgesim does not reproduce
"""

from __future__ import annotations


class EdgesimError(Exception):
    """Base of every error edgesim raises on purpose."""


class InputError(EdgesimError, ValueError):
    """Invalid user input: the message names the file, flag or key and what was wrong."""


class EventError(InputError):
    """An event object that does not follow CloudFront's event structure."""


class FunctionError(EdgesimError):
    """A problem with the user's function (as opposed to a bug in edgesim)."""


class FunctionLoadError(FunctionError):
    """The function cannot be loaded: size limit, syntax error, or a broken compatibility rule."""


class FunctionExecutionError(FunctionError):
    """The function threw, rejected, ran away or ran out of memory (CloudFront: HTTP 503).

    Raised by ``InvocationResult.raise_for_error()``.
    """


class FunctionValidationError(FunctionError):
    """The function returned an object CloudFront would reject (CloudFront: HTTP 502).

    Raised by ``InvocationResult.raise_for_error()``.
    """


class KvsError(EdgesimError):
    """A KeyValueStore problem."""


class KvsImportError(KvsError, InputError):
    """A KeyValueStore import file that CloudFront would refuse."""


class KvsApiError(KvsError):
    """A KVS API call that AWS would refuse; ``code`` and ``status`` are its wire form.

    Codes and statuses from the ``cloudfront-keyvaluestore`` service model (2022-07-26).
    """

    code: str = "InternalServerException"
    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class KvsValidationError(KvsApiError):
    """Malformed request: key or value too long, bad batch shape, bad name or MaxResults."""

    code = "ValidationException"
    status = 400


class KvsQuotaExceeded(KvsApiError):
    """The write would take the store past its size quota (5 MB)."""

    code = "ServiceQuotaExceededException"
    status = 402


class KvsNotFound(KvsApiError):
    """No such store (or key, for GetKey)."""

    code = "ResourceNotFoundException"
    status = 404


class KvsConflict(KvsApiError):
    """Stale or wrong If-Match, or a store name that is already taken."""

    code = "ConflictException"
    status = 409


class NotEmulated(EdgesimError):
    """A CloudFront feature that edgesim does not reproduce (yet); the message says which."""
