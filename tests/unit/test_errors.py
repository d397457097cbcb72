"""edgesim.errors: the exception tree users catch, and the AWS code and status KVS errors carry."""

from __future__ import annotations

import pytest

from edgesim.errors import (
    EdgesimError,
    EventError,
    FunctionError,
    FunctionExecutionError,
    FunctionLoadError,
    FunctionValidationError,
    InputError,
    KvsApiError,
    KvsConflict,
    KvsError,
    KvsImportError,
    KvsNotFound,
    KvsQuotaExceeded,
    KvsValidationError,
    NotEmulated,
)


def test_error_classes_carry_code_and_status() -> None:
    for cls, code, status in [
        (KvsValidationError, "ValidationException", 400),
        (KvsQuotaExceeded, "ServiceQuotaExceededException", 402),
        (KvsNotFound, "ResourceNotFoundException", 404),
        (KvsConflict, "ConflictException", 409),
    ]:
        exc = cls("the message")
        assert isinstance(exc, KvsApiError)
        assert (exc.code, exc.status, exc.message, str(exc)) == (
            code,
            status,
            "the message",
            "the message",
        )


def test_an_unclassified_kvs_api_error_is_an_internal_server_error() -> None:
    exc = KvsApiError("boom")
    assert (exc.code, exc.status, str(exc)) == ("InternalServerException", 500, "boom")


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (InputError, (EdgesimError, ValueError)),
        (EventError, (InputError, ValueError)),
        (FunctionLoadError, (FunctionError,)),
        (FunctionExecutionError, (FunctionError,)),
        (FunctionValidationError, (FunctionError,)),
        (KvsImportError, (KvsError, InputError, ValueError)),
        (KvsApiError, (KvsError,)),
        (NotEmulated, (EdgesimError,)),
    ],
)
def test_each_error_can_be_caught_by_its_documented_bases(
    cls: type[Exception], bases: tuple[type[Exception], ...]
) -> None:
    assert issubclass(cls, EdgesimError)
    for base in bases:
        assert issubclass(cls, base)


def test_user_errors_and_function_errors_are_kept_apart() -> None:
    # A CLI maps InputError to exit 2 and FunctionError to exit 1: no class may be both.
    assert not issubclass(FunctionError, InputError)
    assert not issubclass(InputError, FunctionError)
    assert not issubclass(KvsApiError, InputError)
