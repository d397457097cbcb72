"""The stages of a viewer request, in CloudFront's order (see ``edgesim/edge/proxy.py``).

Each module takes the request's :class:`~edgesim.edge.flow.Flow` and returns a decision or a
response; none of them touches a socket, so each is unit-tested with a fake flow.
"""
