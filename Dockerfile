# edgesim in a container: `docker compose up` runs the bundled demo (its own origin, example
# functions, a seeded KVS on three POPs) on ports 8080 (viewers) and 8081 (admin / KVS API).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY edgesim edgesim
COPY runtime_shims runtime_shims
COPY functions functions
COPY fixtures fixtures
RUN pip install --no-cache-dir .
EXPOSE 8080 8081
# Inside the container the server must listen on all interfaces; docker-compose.yml publishes
# the ports on the host's loopback only.
CMD ["edgesim", "serve", "--host", "0.0.0.0", "--no-reload"]
