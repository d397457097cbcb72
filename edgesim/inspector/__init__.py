"""The inspector: every request's path through the edge, functions, KVS per POP and the cache,
in the browser (served by the admin server) and as a JSON API (docs/inspector.md)."""
