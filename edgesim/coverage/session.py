"""A QuickJS session that keeps coverage counters and hands them over after each invocation.

The counters are an array in the context, installed as a non-enumerable, read-only global
(``__edgesim_cov``) once the session is built: after the isolation snapshot, so the check
that undoes what an invocation left behind neither restores nor reports it (it looks at what
the snapshot recorded and at enumerable properties). The instrumented body reads it into a
local at the start of each invocation (see :mod:`edgesim.coverage.probes`).

After each invocation :meth:`CoveredSession.invoke` takes the counts (the non-zero ones, as
``index,count`` pairs) and zeroes them, with functions captured when the array was installed,
so built-ins the function replaced cannot interfere. The array takes a few bytes per counter
of the function's 2 MB memory allowance (8 per counter; a 10 KB function has a few hundred).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import quickjs

from edgesim.coverage.probes import GLOBAL
from edgesim.runtime.engine import JsSession, KvsResolver, RawOutcome

# Run once per session; returns the function that takes (and zeroes) the non-zero counts.
_INSTALL = """(function (size) {
  var counts = new Array(size);
  for (var i = 0; i < size; i++) counts[i] = 0;
  var after = function (value, probe) { counts[probe]++; return value; };
  Object.defineProperty(globalThis, 'GLOBAL', {
    value: Object.freeze({c: counts, s: after}), enumerable: false, writable: false,
    configurable: false,
  });
  var join = Function.prototype.call.bind(Array.prototype.join);
  return function take() {
    var hits = [];
    var n = 0;
    for (var i = 0; i < size; i++) {
      if (counts[i] !== 0) { hits[n++] = i; hits[n++] = counts[i]; counts[i] = 0; }
    }
    return join(hits, ',');
  };
})""".replace("GLOBAL", GLOBAL)

# Taking the counts is the host's work, not the function's: a generous stop of its own (the
# engine arms its limit again before each of its calls).
_TAKE_LIMIT_S = 5.0

Sink = Callable[[str], None]


class CoveredSession(JsSession):
    """A :class:`JsSession` whose body carries coverage counters (``size`` of them); after
    every invocation their counts go to ``sink`` as ``"index,count,index,count…"``."""

    def __init__(self, body: str, *, size: int, sink: Sink, **options: Any) -> None:
        self._size = size
        self._sink = sink
        self._take: Any = None
        super().__init__(body, **options)

    def invoke(
        self, event_json: str, options: dict[str, Any], resolve_kvs: KvsResolver, tick_limit: int
    ) -> RawOutcome:
        if self._take is None:
            self.finish()
            # The engine's context: JsSession offers no public handle on it (see the report of
            # issue 14 for the hook asked of engine.py).
            ctx = self._ctx
            ctx.set_time_limit(_TAKE_LIMIT_S)
            self._take = ctx.eval(_INSTALL)(self._size)
        outcome = super().invoke(event_json, options, resolve_kvs, tick_limit)
        try:
            self._ctx.set_time_limit(_TAKE_LIMIT_S)
            hits = self._take()
        except quickjs.JSException:  # memory exhausted by the invocation: its counts are lost
            return outcome
        if hits:
            self._sink(str(hits))
        return outcome
