"""Request ids (X-Amz-Cf-Id) drawn in batches: CloudFront's shape, never repeated, and a forked
worker does not hand out the ids its parent drew."""

from __future__ import annotations

import os
import re

import pytest

from edgesim.edge.response_headers import new_request_id

SHAPE = re.compile(r"^[A-Za-z0-9_-]{54}==$")


def test_ids_have_cloudfronts_shape_and_never_repeat_across_batches() -> None:
    ids = [new_request_id() for _ in range(500)]  # several batches of 64
    assert all(SHAPE.match(i) for i in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_draws_its_own_ids() -> None:
    new_request_id()  # the parent has a batch in hand
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its first id and leave at once
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    child_id = os.read(read, 100).decode()
    os.close(read)
    os.waitpid(pid, 0)
    parent_next = [new_request_id() for _ in range(64)]
    assert SHAPE.match(child_id), child_id
    assert child_id not in parent_next
