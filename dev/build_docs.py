"""
Build the documentation site, treating every Sphinx warning as an error.

Usage (from anywhere; needs ``pip install -e '.[docs]'``)::

    python dev/build_docs.py [--examples-output DIR] [--clean] [--output DIR]

The examples gallery runs every example during the build (cached between
builds in the doctree folder). ``--examples-output DIR`` reuses a folder
already filled by ``python examples/run_examples.py --output DIR`` instead.
The site ends up in ``docs/_build/html`` (``index.html``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--examples-output", metavar="DIR",
                        help="reuse the examples' output in DIR instead of running them")
    parser.add_argument("--output", metavar="DIR", default=str(DOCS / "_build" / "html"),
                        help="folder for the HTML site (default: %(default)s)")
    parser.add_argument("--clean", action="store_true",
                        help="start from scratch (remove the output folder and the cache)")
    args = parser.parse_args(argv)

    try:
        import numpydoc  # noqa: F401
        import sphinx  # noqa: F401
    except ImportError as exc:
        print(f"Building the documentation needs Sphinx and numpydoc ({exc}); install them "
              f"with: pip install -e '{ROOT}[docs]'", file=sys.stderr)
        return 2

    output = Path(args.output).resolve()
    if args.clean and output.exists():
        shutil.rmtree(output)
    env = dict(os.environ, MPLBACKEND="Agg")
    if args.examples_output:
        examples_output = Path(args.examples_output).resolve()
        if not examples_output.is_dir():
            print(f"--examples-output: {examples_output} is not a folder", file=sys.stderr)
            return 2
        env["BRIAN2TOOLS_EXAMPLES_OUTPUT"] = str(examples_output)
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
               "-d", str(output / ".doctrees"), str(DOCS), str(output)]
    if args.clean:
        command.insert(3, "-E")
    print(" ".join(command), flush=True)
    result = subprocess.run(command, env=env)
    if result.returncode == 0:
        print(f"The site is in {output / 'index.html'}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
