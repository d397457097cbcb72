"""Which build setting typically produces a construct the compatibility check refuses.

Said only when a finding in a built file maps back to a source line (the construct came from the
build, not from code the user wrote as is). The facts, with their sources, are in docs/build.md
("Settings that produce CloudFront-compatible output"): ECMAScript edition of each construct;
TypeScript's ``target`` lowers it only when set below that edition, and TypeScript 7 has no ES5
target (6.0 deprecated it: microsoft/TypeScript#62196); esbuild's default ``target`` is
``esnext`` and it does not lower ES2015 syntax (destructuring, classes, for…of, spread in arrays
and calls, generators) to ES5 (evanw/esbuild#297, #3743).
"""

from __future__ import annotations

_ES5_ONLY = (
    "an ES2015 construct: kept by TypeScript with any target from ES2015 up and by esbuild "
    "whatever its target (esbuild does not lower it to ES5); lower it first with TypeScript 5.x "
    '"target": "ES5" (TypeScript 7 removed that target) or swc (jsc.target "es5"), then bundle'
)

RULE_HINTS: dict[str, str] = {
    "destructuring": _ES5_ONLY,
    "class": _ES5_ONLY,
    "for-of": _ES5_ONLY
    + ' (TypeScript lowers for…of over arrays; iterables need "downlevelIteration")',
    "spread": _ES5_ONLY
    + " (esbuild lowers object spread for targets below es2018, not array spread)",
    "generator": _ES5_ONLY,
    "super": "comes with classes: " + _ES5_ONLY,
    "new-target": "comes with classes: " + _ES5_ONLY,
    "default-parameters": _ES5_ONLY,
    "optional-chaining": (
        "?. is ES2020: kept by a TypeScript or esbuild target of ES2020 or later (esbuild's "
        'default is esnext); set TypeScript "target" to ES2019 or lower, or esbuild --target=es2019'
    ),
    "nullish-coalescing": (
        "?? is ES2020: kept by a TypeScript or esbuild target of ES2020 or later (esbuild's "
        'default is esnext); set TypeScript "target" to ES2019 or lower, or esbuild --target=es2019'
    ),
    "logical-assignment": (
        '&&=, ||= and ??= are ES2021: set TypeScript "target" to ES2020 or lower, or esbuild '
        "--target=es2020"
    ),
    "optional-catch-binding": (
        'catch without a binding is ES2019: set TypeScript "target" to ES2018 or lower, or '
        "esbuild --target=es2018"
    ),
    "async-await": (
        "async functions are ES2017: runtime 2.0 runs them; for runtime 1.0 TypeScript's "
        '"target": "ES5" lowers them (ES2015/ES2016 targets lower them to generators, also refused)'
    ),
    "let-const": (
        'runtime 1.0 needs var: TypeScript "target": "ES5" writes var (esbuild does not lower '
        "const and let)"
    ),
    "named-import": (
        "the built file still imports: bundle it (esbuild --bundle) so only `import cf from "
        "'cloudfront'` may remain, kept with --external:cloudfront"
    ),
    "import-unknown-module": (
        "the built file still imports a module: bundle it (esbuild --bundle); only cloudfront "
        "and crypto exist in CloudFront Functions"
    ),
    "absent-method": (
        'TypeScript does not add missing methods; set "lib": ["ES5"] (plus what runtime 2.0 '
        "adds) so the compiler rejects what CloudFront lacks"
    ),
    "absent-global": (
        'TypeScript does not add missing globals; "lib": ["ES5"] without "DOM" keeps the '
        "compiler from accepting them"
    ),
}


# A finding in the built file that maps to no source: the build wrote that code itself.
BUNDLER_HINT = (
    "not from your sources: the build wrote this itself (a bundler helper or wrapper); esbuild "
    "writes its helpers for its --target (default esnext): --target=es5 makes them ES5"
)


def hint_for(rule: str) -> str | None:
    """The build setting behind a finding of ``rule`` (None: nothing a build setting changes)."""
    return RULE_HINTS.get(rule)
