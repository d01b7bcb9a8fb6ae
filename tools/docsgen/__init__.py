"""Docs that cannot drift: console blocks re-run, figures read from benchmark records.

The README and the guides mark what is generated, and this package regenerates or
checks it:

- a console block preceded by ``<!-- console ... -->`` is produced by running its
  commands in a fresh workspace (``console.py``), or, with ``{bench: NAME}``, is the
  recorded output of a benchmark run (``bench/results/NAME.json``);
- an inline ``<!--fig NAME:KEY-->text<!--/fig-->`` is a figure a benchmark recorded, and
  ``<!-- figures NAME:KEY -->`` ... ``<!-- /figures -->`` a table it recorded
  (``figures.py``);
- ``<!-- figures-sources -->`` ... ``<!-- /figures-sources -->`` is the README's table of
  every figure, its benchmark, its data and the machine it was measured on.

``python tools/docs.py`` regenerates; ``python tools/docs.py --check`` fails on drift.
Nothing here is imported by fundtrail itself.
"""
