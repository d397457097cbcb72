"""Lambda@Edge: the event shape, validation of results, and a pool of Node.js workers.

Knows nothing of HTTP servers: the pipeline stages call :meth:`LambdaEdgeFunction.invoke` with
the request (and response) in CloudFront's Lambda@Edge shape and get a typed outcome back.
"""
