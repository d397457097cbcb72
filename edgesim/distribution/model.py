"""Typed model of one distribution, as ``edgesim serve`` runs it.

``config.py`` builds these objects from ``edgesim.toml`` (validating every key); the edge pipeline
only ever reads them. Field meanings follow the CloudFront API shapes they mirror
(``CacheBehavior``, ``CachePolicyConfig``, ``OriginRequestPolicyConfig``,
``ResponseHeadersPolicyConfig``, ``Origin``, ``OriginGroup``, ``CustomErrorResponse``).
Header names are stored lower-cased; cookie and query-string names keep their case (CloudFront
compares them case-sensitively).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from edgesim.kvs.propagation import PropagationSpec
from edgesim.lambda_edge.limits import EMULATED_ROLE_CREDENTIALS

ALL_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"})
GET_HEAD = frozenset({"GET", "HEAD"})
GET_HEAD_OPTIONS = frozenset({"GET", "HEAD", "OPTIONS"})

# Cache policy: headers none|whitelist; cookies and query strings none|whitelist|allExcept|all.
# Origin request policy: headers none|whitelist|allViewer|allViewerAndWhitelistCloudFront|allExcept;
# cookies and query strings none|whitelist|all|allExcept.
SelectionBehavior = Literal[
    "none", "whitelist", "allExcept", "all", "allViewer", "allViewerAndWhitelistCloudFront"
]
ViewerProtocolPolicy = Literal["allow-all", "redirect-to-https", "https-only"]


@dataclass(frozen=True)
class Selection:
    """Which headers / cookies / query strings a policy picks."""

    behavior: SelectionBehavior = "none"
    names: frozenset[str] = frozenset()

    def picks(self, name: str) -> bool:
        """Whether a viewer value called ``name`` is selected (names already normalised)."""
        if self.behavior == "none":
            return False
        if self.behavior == "whitelist":
            return name in self.names
        if self.behavior == "allExcept":
            return name not in self.names
        # all / allViewer / allViewerAndWhitelistCloudFront: every viewer value.
        return True


@dataclass(frozen=True)
class CachePolicy:
    name: str
    min_ttl: int = 0
    default_ttl: int = 86_400
    max_ttl: int = 31_536_000
    headers: Selection = Selection()
    cookies: Selection = Selection()
    query_strings: Selection = Selection()
    enable_gzip: bool = False
    enable_brotli: bool = False
    managed_id: str | None = None


@dataclass(frozen=True)
class OriginRequestPolicy:
    name: str
    headers: Selection = Selection()
    cookies: Selection = Selection()
    query_strings: Selection = Selection()
    managed_id: str | None = None


@dataclass(frozen=True)
class CustomHeader:
    name: str  # as configured (case kept for the wire)
    value: str
    override: bool = True


@dataclass(frozen=True)
class CorsConfig:
    allow_origins: tuple[str, ...] = ("*",)
    allow_headers: tuple[str, ...] = ("*",)
    allow_methods: tuple[str, ...] = ("ALL",)
    allow_credentials: bool = False
    expose_headers: tuple[str, ...] = ()
    max_age_s: int | None = None
    origin_override: bool = False


@dataclass(frozen=True)
class ResponseHeadersPolicy:
    name: str
    # Security headers: each (header name, value, override) once configured.
    security_headers: tuple[CustomHeader, ...] = ()
    custom_headers: tuple[CustomHeader, ...] = ()
    remove_headers: frozenset[str] = frozenset()  # lower-case
    cors: CorsConfig | None = None
    managed_id: str | None = None


@dataclass(frozen=True)
class Origin:
    id: str
    url: str  # scheme://host[:port], no path
    origin_path: str = ""  # prefix CloudFront prepends to the request path (OriginPath)
    custom_headers: tuple[CustomHeader, ...] = ()
    connect_timeout_s: float = 10.0
    response_timeout_s: float = 30.0
    connection_attempts: int = 3
    host_header: str | None = None  # set by an origin helper's hostHeader: the Host sent
    # An S3 origin (S3OriginConfig or OAC, or a bucket REST endpoint): served from a directory
    # when [origins_local] maps it to one, with S3's answers.
    s3: bool = False


@dataclass(frozen=True)
class OriginGroup:
    id: str
    primary: str
    secondary: str
    failover_status_codes: frozenset[int] = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class KvsDecl:
    name: str
    data: Path | None = None  # CloudFront import-format seed file


Compat = Literal["strict", "lenient"]


@dataclass(frozen=True)
class FunctionDecl:
    name: str
    file: Path
    runtime: str = "cloudfront-js-2.0"
    kvs: str | None = None
    # The compatibility check serve applies, as `edgesim test --compat`: strict refuses a function
    # that breaks a rule (at start-up and on reload); lenient loads it and warns per request.
    compat: Compat = "strict"
    # Per-rule levels (rule id, "strict" | "warn" | "lenient"), as `edgesim lint --rule`.
    rules: tuple[tuple[str, str], ...] = ()
    # A build step (edgesim.build): `build` runs in `build_dir` (the config's directory) at
    # start-up and whenever a file matching a `watch` glob changes; `file` is its output.
    build: str | None = None
    watch: tuple[str, ...] = ()
    build_dir: Path | None = None
    build_timeout_s: float = 120.0


LambdaEventType = Literal["viewer-request", "origin-request", "origin-response", "viewer-response"]


@dataclass(frozen=True)
class LambdaDecl:
    """``[[lambdas]]``: a Lambda@Edge function (docs/lambda-edge.md). ``file`` is a
    ``.js``/``.mjs``/``.cjs`` file, a package directory or a ``.zip``; ``handler`` None means
    the default (``index.handler`` for a directory, ``<file stem>.handler`` for a file)."""

    name: str
    file: Path
    handler: str | None = None
    runtime: str = "nodejs20.x"
    timeout_s: float = 3.0  # Lambda's default (AWS Lambda Developer Guide)
    memory_mb: int = 128
    # A build step, as FunctionDecl's: `file` (a file or a package directory) is its output.
    build: str | None = None
    watch: tuple[str, ...] = ()
    build_dir: Path | None = None
    build_timeout_s: float = 120.0


@dataclass(frozen=True)
class LambdaAssociation:
    """A behaviour's ``LambdaFunctionAssociation``: which lambda runs at which event, and
    whether it receives the request body (request events only)."""

    event_type: LambdaEventType
    name: str
    include_body: bool = False


@dataclass(frozen=True)
class LambdaSettings:
    """``[lambda]``: how serve runs Lambda@Edge functions (edgesim's settings, not CloudFront's)."""

    node: str | None = None  # the Node.js executable (None: node on PATH)
    max_workers: int = 4  # Node.js workers for all lambdas together
    max_queue: int = 64  # invocations waiting per lambda before LambdaLimitExceeded
    idle_s: float = 300.0  # an idle worker is stopped after this long
    # What a timeout answers: LambdaExecutionError (field reports) or LambdaLimitExceeded
    # (AWS's 503 page lists timeouts among its causes).
    timeout_error: str = "LambdaExecutionError"
    env: tuple[tuple[str, str], ...] = ()  # [lambda.env]: local-only variables (a deviation)
    # The emulated execution role's temporary credentials handed to every lambda
    # (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); the signature-checking
    # local S3 origins accept them besides their own keys.
    credentials: tuple[str, str, str] = EMULATED_ROLE_CREDENTIALS


@dataclass(frozen=True)
class Behavior:
    path: str  # "*" for the default behaviour
    origin: str  # an origin id or an origin group id
    cache_policy: CachePolicy
    origin_request_policy: OriginRequestPolicy | None = None
    response_headers_policy: ResponseHeadersPolicy | None = None
    viewer_request: str | None = None  # function name
    viewer_response: str | None = None
    allowed_methods: frozenset[str] = GET_HEAD
    cached_methods: frozenset[str] = GET_HEAD
    viewer_protocol_policy: ViewerProtocolPolicy = "allow-all"
    compress: bool = True
    # Key group names (TrustedKeyGroups): non-empty → signed URLs or cookies are required
    # (docs/private-content.md).
    trusted_key_groups: tuple[str, ...] = ()
    # Lambda@Edge associations, at most one per event type (viewer events: only where no
    # CloudFront Function is associated with the same event).
    lambdas: tuple[LambdaAssociation, ...] = ()

    def lambda_at(self, event_type: str) -> LambdaAssociation | None:
        for association in self.lambdas:
            if association.event_type == event_type:
                return association
        return None


@dataclass(frozen=True)
class CustomErrorResponse:
    error_code: int
    response_page_path: str | None = None
    response_code: int | None = None
    error_caching_min_ttl: int = 10


@dataclass(frozen=True)
class CidrRule:
    network: str  # e.g. "10.0.0.0/8" or "2001:db8::/32"
    value: str  # a POP code or an ISO country code


@dataclass(frozen=True)
class Edges:
    pops: tuple[str, ...] = ("IAD",)
    # KVS propagation, per-POP pins included (both of the config's spellings end up here).
    propagation: PropagationSpec = field(default_factory=PropagationSpec)
    pop_cidrs: tuple[CidrRule, ...] = ()
    country_cidrs: tuple[CidrRule, ...] = ()
    default_country: str = "US"
    geoip_database: Path | None = None
    # [edges] pop_regions: (POP or code, region) over edgesim's defaults (edgesim.edge.regions).
    pop_regions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class S3Access:
    """A local S3 directory that checks signatures as S3 does (SigV4/SigV4A) for a bucket in
    ``region``, accepting the keys in ``credentials`` ((access key id, secret) pairs)."""

    region: str
    credentials: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class LocalOrigin:
    """Where an origin (by id) or any domain name an origin helper may name is reached locally:
    ``[origins_local]`` and ``serve --origin KEY=URL|DIR``. Exactly one of ``url``,
    ``directory`` and ``regions`` is set as configured (serve fills ``url`` in for directories)."""

    key: str  # an origin id or a domain name, as written
    url: str | None = None  # scheme://host[:port]
    directory: Path | None = None  # served as an S3 bucket behind CloudFront would be
    access: S3Access | None = None  # with credentials: signature checks (issue 18)
    # MRAP-style: one directory per region, the one nearest the POP serves (region, directory).
    regions: tuple[tuple[str, Path], ...] = ()
    region_urls: tuple[tuple[str, str], ...] = ()  # (region, local URL), filled in by serve


@dataclass(frozen=True)
class Throttling:
    """When serve throttles a function that keeps running over its compute budget (CloudFront:
    503 ``FunctionThrottledError``; its thresholds are not published, so these are edgesim's,
    documented in docs/serve.md). Per function, over the last ``window_s`` seconds of the edge
    clock: once at least ``min_invocations`` ran and at least ``over_budget_ratio`` of them went
    over budget, the function is throttled for ``duration_s`` seconds. A reload resets it."""

    enabled: bool = True
    window_s: float = 10.0
    min_invocations: int = 10
    over_budget_ratio: float = 0.5
    duration_s: float = 30.0


@dataclass(frozen=True)
class CacheSettings:
    """``[cache]``: the edge cache's budgets, for all POPs together, in MiB (docs/cache.md).
    Memory counts each entry's estimated cost (key, headers, bookkeeping and in-memory body);
    disk counts spilled bodies (those over 1 MiB). Read by edgesim.distribution.cache_settings."""

    memory_limit_mb: int = 256
    disk_limit_mb: int = 8_192
    # serve --workers N: one cache for every worker instead of one each (docs/workers.md).
    shared: bool = False

    @property
    def memory_limit_bytes(self) -> int:
        return self.memory_limit_mb * 1_048_576

    @property
    def disk_limit_bytes(self) -> int:
        return self.disk_limit_mb * 1_048_576


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    admin_port: int = 8081
    state_dir: Path = Path(".edgesim")
    ephemeral: bool = False
    domain_name: str = "d111111abcdef8.cloudfront.net"
    access_log: Path | None = None
    https: bool = True  # an HTTPS listener next to HTTP (a locally generated CA and leaf)
    https_port: int = 8443
    debug_headers: bool = False  # add x-edgesim-error to CloudFront's error answers
    network_origins: bool = False  # let origin helpers reach unmapped domains over the network
    # Idle viewer connections (and request heads that never complete) are closed after this long.
    # CloudFront documents no idle timeout for viewers; 60 s is edgesim's choice.
    keepalive_timeout_s: float = 60.0
    # Host names the admin server answers to besides loopback names (DNS-rebinding protection).
    admin_allowed_hosts: tuple[str, ...] = ()
    # The inspector (docs/inspector.md): on the admin port, capturing the last N flows.
    inspector: bool = True
    inspector_flows: int = 1_000
    inspector_body_bytes: int = 4_096  # generated bodies kept per flow, at most
    # serve's clock (docs/clock.md): where it starts (None: the real time), and whether it stands
    # still until moved (edgesim clock, POST /clock).
    now: datetime | None = None
    frozen: bool = False


@dataclass(frozen=True)
class PublicKeyDecl:
    """``[[public_keys]]``: a key signed URLs and cookies are checked with (PublicKeyConfig).
    ``id`` is what ``Key-Pair-Id`` names; ``pem`` is the key, already checked to parse."""

    id: str
    pem: bytes


@dataclass(frozen=True)
class KeyGroupDecl:
    """``[[key_groups]]``: named public keys a behaviour trusts (KeyGroupConfig)."""

    name: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class PrivateContent:
    """``[private_content]``: edgesim's choices where CloudFront documents nothing
    (docs/private-content.md)."""

    strip_signing_parameters: bool = False
    # check = "after-function": the viewer-request function runs first (unverified order).
    after_function: bool = False


GeoRestrictionType = Literal["none", "whitelist", "blacklist"]


@dataclass(frozen=True)
class GeoRestriction:
    """``Restrictions.GeoRestriction``: viewers from countries outside a whitelist (or inside a
    blacklist) get 403 (Developer Guide, "Restrict the geographic distribution of your
    content"), decided on the viewer country edgesim resolves."""

    restriction_type: GeoRestrictionType = "none"
    countries: frozenset[str] = frozenset()  # ISO 3166-1 alpha-2, upper case


@dataclass(frozen=True)
class Distribution:
    server: ServerSettings
    origins: dict[str, Origin]
    origin_groups: dict[str, OriginGroup]
    kvs: dict[str, KvsDecl]
    functions: dict[str, FunctionDecl]
    behaviors: tuple[Behavior, ...]
    default_behavior: Behavior
    edges: Edges = Edges()
    custom_error_responses: dict[int, CustomErrorResponse] = field(default_factory=dict)
    config_path: Path | None = None  # None: the bundled demo
    # Origin id or domain name → where it is reached locally ([origins_local], --origin).
    origins_local: dict[str, LocalOrigin] = field(default_factory=dict)
    throttling: Throttling = Throttling()
    cache: CacheSettings = CacheSettings()  # [cache] budgets (edgesim.edge.cache)
    default_root_object: str | None = None  # DefaultRootObject, e.g. "index.html"
    geo_restriction: GeoRestriction = GeoRestriction()
    aliases: tuple[str, ...] = ()  # alternate domain names (CNAMEs)
    # Signed URLs and cookies: public keys by id, key groups by name (docs/private-content.md).
    public_keys: dict[str, PublicKeyDecl] = field(default_factory=dict)
    key_groups: dict[str, KeyGroupDecl] = field(default_factory=dict)
    private_content: PrivateContent = PrivateContent()
    # What an imported distribution has that edgesim does not emulate, one line each, printed
    # once at start-up ("accepted, not emulated: …" / "not emulated: requests will differ …").
    notes: tuple[str, ...] = ()
    # Files the distribution was read from (template, .tf, assets, overlay): hot reload watches
    # them and re-imports. Empty for an edgesim.toml (config_path is watched instead).
    sources: tuple[Path, ...] = ()
    # Lambda@Edge functions by name ([[lambdas]]) and how serve runs them ([lambda]).
    lambdas: dict[str, LambdaDecl] = field(default_factory=dict)
    lambda_settings: LambdaSettings = LambdaSettings()

    def all_behaviors(self) -> tuple[Behavior, ...]:
        return (*self.behaviors, self.default_behavior)
