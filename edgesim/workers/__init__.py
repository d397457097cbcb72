"""``edgesim serve --workers N``: one control process, N worker processes serving viewers.

The control process (:mod:`.supervisor`) is the only writer: config, builds and reloads, the KVS
service and its control plane, the settable clock, the admin server and the observers of
finished requests (metrics, request log, inspector, traffic recording). Workers
(:mod:`.worker`) serve viewers on the shared port(s): each runs the edge proxy, its own cache
and its functions, follows the KVS (:mod:`.follower`) and the clock from the control process's
messages, and sends finished requests back in batches (:mod:`.messages`, over :mod:`.channel`).
See docs/workers.md.
"""
