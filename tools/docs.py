"""Regenerate (or check) the docs' console blocks and figures.

    python tools/docs.py                  # re-run every console session, refill figures
    python tools/docs.py --check          # exit 1 when a page no longer matches (make docs-check)
    python tools/docs.py --check --suite  # only sessions marked `suite: true` (the test suite's)
    python tools/docs.py --figures        # no commands run: figures and recorded outputs only
    python tools/docs.py docs/guide/20-simulate.md --session main

See tools/docsgen/__init__.py for the markers, tools/docsgen/session.py for the options.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docsgen.pages import Sessions, process


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "pages", nargs="*", type=Path, help="pages to process (default: README + guides)"
    )
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 on any drift")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--suite", action="store_true", help="only sessions marked suite: true")
    which.add_argument("--figures", action="store_true", help="run no commands")
    ap.add_argument("--session", help="only the console session of this name")
    args = ap.parse_args()
    sessions: Sessions = "none" if args.figures else "suite" if args.suite else "all"
    outcome = process(
        args.pages or None,
        check=args.check,
        sessions=sessions,
        only=args.session,
        say=lambda s: print(s, flush=True),
    )
    for line in outcome.skipped:
        print(f"skipped: {line}")
    for path in outcome.written:
        print(f"rewrote {path}")
    for line in outcome.drift:
        print(f"{'drift' if args.check else 'regenerated'}: {line}")
    for line in outcome.errors:
        print(f"error: {line}")
    if outcome.ok:
        print(f"ok: {len(outcome.ran)} console session(s) run, figures and outputs match")
    else:
        print(f"{len(outcome.drift)} drifted, {len(outcome.errors)} error(s)")
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
