"""CloudFront Functions and KeyValueStore quotas, in one place.

Sources: AWS CloudFront Developer Guide, "Quotas" (cloudfront-limits) and
"Restrictions on CloudFront Functions"; KVS figures from "Quotas on key value stores".
The JavaScript half of the runtime gets the figures it needs from here too
(``edgesim.runtime.shims.js_limits``), so no limit is written twice.
"""

from __future__ import annotations

# Function code size: 10 KB, not adjustable (FunctionSizeLimitExceeded).
FUNCTION_MAX_SOURCE_BYTES = 10_240
# Function memory: 2 MB.
FUNCTION_MAX_MEMORY_BYTES = 2 * 1024 * 1024
# console.log output per invocation is truncated at 10 KB (of UTF-8).
FUNCTION_MAX_LOG_BYTES = 10 * 1024
# cf.logCustomData: the value is URL-encoded, then truncated to 800 bytes
# ("General helper methods").
FUNCTION_MAX_CUSTOM_LOG_BYTES = 800
# cf.cwt: tokens (validated or generated) are at most 1 KB ("CWT support for CloudFront Functions").
CWT_MAX_TOKEN_BYTES = 1024
# URI plus query string must stay under 8,192 characters.
MAX_URI_AND_QUERY_CHARS = 8_192
# Compute budget behind ComputeUtilization. AWS documents only the percentage; about 1 ms is the
# commonly quoted figure (unverified), so it is configurable.
DEFAULT_COMPUTE_BUDGET_NS = 1_000_000
# Runaway code is stopped at this multiple of the budget (an emulator choice, configurable).
DEFAULT_HARD_CEILING_FACTOR = 10
# Modelled cost of a native crypto call (hash/HMAC), which edgesim runs as JavaScript: a fixed
# overhead per call plus a per-byte rate of about 250 MB/s. An emulator estimate, configurable
# through BudgetPolicy; the measured JavaScript time of those calls is not charged.
NATIVE_CRYPTO_CALL_NS = 500
NATIVE_CRYPTO_BYTE_NS = 4.0

# KeyValueStore.
KVS_MAX_KEY_BYTES = 512
KVS_MAX_VALUE_BYTES = 1024
KVS_MAX_STORE_BYTES = 5 * 1024 * 1024
KVS_MAX_BATCH_OPERATIONS = 50
KVS_MAX_BATCH_BYTES = 3 * 1024 * 1024

RUNTIME_JS_1 = "cloudfront-js-1.0"
RUNTIME_JS_2 = "cloudfront-js-2.0"
RUNTIMES = (RUNTIME_JS_2, RUNTIME_JS_1)
