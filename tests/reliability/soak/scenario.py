"""The soak's distribution: its edgesim.toml, its three functions and its KVS seed file, each
written for a given version so that hot reloads can change them and the test can see which
version answered.

Behaviours:

| path | origin | cache policy | functions |
|---|---|---|---|
| ``/static/*`` | app | CachingOptimized (+ AllViewer) | greet (viewer request, reads the KVS), stamp (viewer response) |
| ``/api/*`` | app | CachingDisabled | greet, stamp |
| ``/kvs/*`` | app (never reached) | CachingDisabled | kvsecho: answers with the value of a KVS key |
| ``/fault/*`` | flaky (same server, 1 s response timeout) | CachingDisabled | none |
| everything else (``/page/*``) | app | CachingOptimized | none |

A config reload changes the ``X-Soak-Config`` header of the response headers policy; the
``[server]`` and ``[edges]`` tables never change (serve refuses to reload those).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

POPS = ("IAD", "FRA", "NRT")
STORE = "soak"
# Each write reaches each POP after 200–1,500 ms (NRT: a fixed 2,500 ms).
PROPAGATION_MAX_S = 2.5
SEED_KEYS = 8


def config_toml(origin_url: str, version: int, state_dir: Path) -> str:
    return f"""\
# The soak's distribution (tests/reliability/test_soak.py), version {version}.
[server]
port = 0
admin_port = 0
https = false
state_dir = "{state_dir.as_posix()}"

[[origins]]
id = "app"
url = "{origin_url}"

[[origins]]
id = "flaky"
url = "{origin_url}"
response_timeout_s = 1
connection_attempts = 1

[[kvs]]
name = "{STORE}"
data = "seed.json"

[[functions]]
name = "greet"
file = "greet.js"
kvs = "{STORE}"

[[functions]]
name = "stamp"
file = "stamp.js"

[[functions]]
name = "kvsecho"
file = "kvsecho.js"
kvs = "{STORE}"

[[response_headers_policies]]
name = "soak"
custom_headers = {{ X-Soak-Config = "c{version}" }}

[[behaviors]]
path = "/static/*"
origin = "app"
cache_policy = "CachingOptimized"
origin_request_policy = "AllViewer"
response_headers_policy = "soak"
viewer_request = "greet"
viewer_response = "stamp"

[[behaviors]]
path = "/api/*"
origin = "app"
cache_policy = "CachingDisabled"
origin_request_policy = "AllViewer"
response_headers_policy = "soak"
viewer_request = "greet"
viewer_response = "stamp"

[[behaviors]]
path = "/kvs/*"
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "kvsecho"

[[behaviors]]
path = "/fault/*"
origin = "flaky"
cache_policy = "CachingDisabled"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
response_headers_policy = "soak"

[edges]
pops = {json.dumps(list(POPS))}
propagation = {{ model = "uniform", min_ms = 200, max_ms = 1500, seed = 11, per_pop_ms = {{ NRT = 2500 }} }}
"""


def plain_config_toml(origin_url: str, state_dir: Path) -> str:
    """One POP, one origin, CachingOptimized for everything: for targeted regression tests."""
    return f"""\
[server]
port = 0
admin_port = 0
https = false
state_dir = "{state_dir.as_posix()}"

[[origins]]
id = "app"
url = "{origin_url}"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"
"""


def greet_js(version: int) -> str:
    return f"""\
// The soak's viewer-request function, version {version}: reads the KVS on every request.
import cf from 'cloudfront';

const VERSION = '{version}';

async function handler(event) {{
  const request = event.request;
  let greeting = 'none';
  try {{
    greeting = await cf.kvs().get('seed-greeting');
  }} catch (err) {{
    greeting = 'missing';
  }}
  request.headers['x-greeting'] = {{ value: greeting }};
  request.headers['x-greet-version'] = {{ value: VERSION }};
  return request;
}}
"""


def stamp_js(version: int) -> str:
    return f"""\
// The soak's viewer-response function, version {version}.
const VERSION = '{version}';

function handler(event) {{
  const response = event.response;
  response.headers['x-fn-version'] = {{ value: VERSION }};
  return response;
}}
"""


def kvsecho_js(version: int) -> str:
    # exists() first, so that a failing read is a 503 (an unexpected 5xx), never "absent".
    return f"""\
// The soak's KVS probe, version {version}: answers with the value this POP holds for the key
// named by the path (/kvs/KEY).
import cf from 'cloudfront';

async function handler(event) {{
  const key = decodeURIComponent(event.request.uri.slice('/kvs/'.length));
  const kvs = cf.kvs();
  const headers = {{
    'cache-control': {{ value: 'no-store' }},
    'x-echo-version': {{ value: '{version}' }},
  }};
  if (await kvs.exists(key)) {{
    headers['x-kvs-found'] = {{ value: '1' }};
    headers['x-kvs-value'] = {{ value: await kvs.get(key) }};
  }} else {{
    headers['x-kvs-found'] = {{ value: '0' }};
  }}
  return {{ statusCode: 200, statusDescription: 'OK', headers }};
}}
"""


def seed_items(version: int) -> dict[str, str]:
    """The seed file's keys: ``seed-greeting`` and ``seed-0``… change with every version."""
    items = {"seed-greeting": f"hello-{version}"}
    items.update({f"seed-{i}": f"s{version}-{i}" for i in range(SEED_KEYS)})
    return items


def seed_json(version: int) -> str:
    data = [{"key": k, "value": v} for k, v in seed_items(version).items()]
    return json.dumps({"data": data}, indent=1) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Save as editors that write a temporary file and rename it do."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_in_place(path: Path, text: str) -> None:
    """Save as editors that truncate the file and write it again do (issue 11, point 2: the
    reloader may see the empty file)."""
    with path.open("w") as f:
        f.write(text)


def write_all(workdir: Path, origin_url: str, state_dir: Path) -> Path:
    """Version 0 of everything; returns the config's path."""
    write_atomic(workdir / "greet.js", greet_js(0))
    write_atomic(workdir / "stamp.js", stamp_js(0))
    write_atomic(workdir / "kvsecho.js", kvsecho_js(0))
    write_atomic(workdir / "seed.json", seed_json(0))
    config = workdir / "edgesim.toml"
    write_atomic(config, config_toml(origin_url, 0, state_dir))
    return config
