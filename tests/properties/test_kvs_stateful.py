"""KvsService against a plain dict: any sequence of writes, good or bad, must agree exactly.

The store limit is shrunk to 40 bytes so that quota errors are a few writes away; keys and values
come from small pools (collisions are the interesting part) plus oversize and empty ones.
"""

import shutil
import tempfile
from pathlib import Path

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from edgesim.errors import KvsApiError, KvsConflict, KvsQuotaExceeded, KvsValidationError
from edgesim.kvs import KvsService, VirtualClock

MAX_BYTES = 40

keys = st.one_of(
    st.sampled_from(["a", "b", "c", "é", "\x00", "日本"]),
    st.just("k" * 512),  # at the limit: valid, but eats the quota at once
    st.sampled_from(["", "k" * 513, "€" * 171]),  # invalid: empty, 513 bytes
)
values = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["v" * 1024, "v" * 1025]),
)
batch_puts = st.lists(st.tuples(keys, values), max_size=4)
batch_deletes = st.lists(keys, max_size=4)


def size(items: dict[str, str]) -> int:
    return sum(len(k.encode()) + len(v.encode()) for k, v in items.items())


def key_ok(key: str) -> bool:
    return 1 <= len(key.encode()) <= 512


def value_ok(value: str) -> bool:
    return len(value.encode()) <= 1024


class KvsModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="kvs-stateful-"))
        self.clock = VirtualClock()
        self.kvs = self._open()
        self.model: dict[str, str] = {}
        self.etag = self.kvs.create_store("s").etag
        self.old_etags = ["KVNOTANETAG"]

    def _open(self) -> KvsService:
        return KvsService(
            path=self.dir / "kvs.sqlite3", clock=self.clock, max_store_bytes=MAX_BYTES
        )

    def teardown(self) -> None:
        self.kvs.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _expect(
        self, puts: list[tuple[str, str]], deletes: list[str], stale: bool
    ) -> type[KvsApiError] | dict[str, str]:
        """What the documented rules say the write does: an error class, or the new items."""
        put_keys = [k for k, _ in puts]
        if (
            (not puts and not deletes)
            or len(puts) + len(deletes) > 50
            or not all(key_ok(k) and value_ok(v) for k, v in puts)
            or not all(key_ok(k) for k in deletes)
            or len(set(put_keys)) != len(put_keys)
            or len(set(deletes)) != len(deletes)
            or set(put_keys) & set(deletes)
        ):
            return KvsValidationError
        if stale:
            return KvsConflict
        after = {k: v for k, v in self.model.items() if k not in deletes}
        after.update(puts)
        if size(after) > MAX_BYTES:
            return KvsQuotaExceeded
        return after

    def _check(self, expected: type[KvsApiError] | dict[str, str], call) -> None:  # type: ignore[no-untyped-def]
        try:
            result = call()
        except KvsApiError as exc:
            error: KvsApiError | None = exc
        else:
            error = None
        if error is not None:
            assert isinstance(expected, type), f"unexpected {error!r}"
            assert type(error) is expected, f"expected {expected.__name__}, got {error!r}"
            return
        assert isinstance(expected, dict), f"expected {expected}, but the write succeeded"
        self.model = expected
        assert result.etag != self.etag
        assert result.etag not in self.old_etags
        self.old_etags.append(self.etag)
        self.etag = result.etag
        assert (result.item_count, result.total_size) == (len(expected), size(expected))

    def _if_match(self, stale: bool, pick: int) -> str:
        return self.old_etags[pick % len(self.old_etags)] if stale else self.etag

    @rule(key=keys, value=values, stale=st.booleans(), pick=st.integers(0, 100))
    def put(self, key: str, value: str, stale: bool, pick: int) -> None:
        expected = self._expect([(key, value)], [], stale)
        if_match = self._if_match(stale, pick)
        self._check(expected, lambda: self.kvs.put_key("s", key, value, if_match=if_match))

    @rule(key=keys, stale=st.booleans(), pick=st.integers(0, 100))
    def delete(self, key: str, stale: bool, pick: int) -> None:
        expected = self._expect([], [key], stale)
        if_match = self._if_match(stale, pick)
        self._check(expected, lambda: self.kvs.delete_key("s", key, if_match=if_match))

    @rule(puts=batch_puts, deletes=batch_deletes, stale=st.booleans(), pick=st.integers(0, 100))
    def batch(
        self, puts: list[tuple[str, str]], deletes: list[str], stale: bool, pick: int
    ) -> None:
        expected = self._expect(puts, deletes, stale)
        if_match = self._if_match(stale, pick)
        self._check(
            expected,
            lambda: self.kvs.update_keys("s", puts=puts, deletes=deletes, if_match=if_match),
        )

    @rule(key=st.sampled_from(["a", "é", "日本"]), over=st.booleans(), stale=st.booleans())
    def fill_to_the_limit(self, key: str, over: bool, stale: bool) -> None:
        """A value sized to land exactly on the quota, or one byte past it."""
        room = (
            MAX_BYTES - size({k: v for k, v in self.model.items() if k != key}) - len(key.encode())
        )
        value = "f" * (room + over)
        if room < 0 or not value_ok(value):
            return
        expected = self._expect([(key, value)], [], stale)
        if_match = self._if_match(stale, 0)
        self._check(expected, lambda: self.kvs.put_key("s", key, value, if_match=if_match))

    @rule(extra=st.integers(1, 3))
    def oversized_batch(self, extra: int) -> None:
        deletes = [f"d{i}" for i in range(50 + extra)]
        self._check(
            KvsValidationError,
            lambda: self.kvs.update_keys("s", deletes=deletes, if_match=self.etag),
        )

    @rule()
    def empty_if_match(self) -> None:
        self._check(KvsValidationError, lambda: self.kvs.put_key("s", "a", "b", if_match=""))

    @precondition(lambda self: len(self.old_etags) > 1)
    @rule()
    def reopen(self) -> None:
        self.kvs.close()
        self.kvs = self._open()

    @rule(max_results=st.integers(1, 4))
    def list_all(self, max_results: int) -> None:
        seen: list[tuple[str, str]] = []
        token = None
        while True:
            page, token = self.kvs.list_keys("s", max_results=max_results, next_token=token)
            seen.extend(page)
            if token is None:
                break
        assert seen == sorted(self.model.items(), key=lambda kv: kv[0].encode())

    @invariant()
    def agrees_with_the_model(self) -> None:
        info = self.kvs.describe("s")
        assert info.etag == self.etag
        assert (info.item_count, info.total_size) == (len(self.model), size(self.model))
        assert self.kvs.export("s") == self.model
        replica = self.kvs.replica("s", "LOCAL")  # zero lag: always the latest
        for key in {"a", "b", "c", "é", "\x00", "日本", "k" * 512}:
            assert replica.get(key) == self.model.get(key)


TestKvsModel = KvsModel.TestCase
