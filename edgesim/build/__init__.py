"""Functions built from other sources (TypeScript, modules bundled into one file).

``[[functions]] build = "…"`` / ``edgesim test --build`` / ``load_function(build=…)``: a command
writes the function file; edgesim runs it (:mod:`.runner`), checks what it wrote as CloudFront
would receive it (:mod:`.checks`), reads its source map through Node (:mod:`.sourcemap`) and
says every position in the source the user edits (:mod:`.relabel`, with :mod:`.hints`). In
``serve``, :mod:`.serve` runs the builds at start-up and when watched files change (globs:
:mod:`.globs`). Coverage and other reports map a built file's position with
:meth:`SourceMap.original`.
"""

from edgesim.build.oneshot import build_once, relabeled_output
from edgesim.build.relabel import Relabeler
from edgesim.build.sourcemap import Origin, SourceMap, load_source_map

__all__ = ["Origin", "Relabeler", "SourceMap", "build_once", "load_source_map", "relabeled_output"]
