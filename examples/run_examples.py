"""
Run every example script in this folder and collect what they produce.

Each example writes its figures (PNG) and exported models into the current
working directory; this script runs each one in a fresh Python process inside
the output folder, so that the results of all examples end up side by side.

Usage::

    python examples/run_examples.py [--output DIR] [NAME ...]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent


def example_scripts(names=()):
    """The example scripts to run: all of them, or those named."""
    scripts = sorted(
        path for path in EXAMPLES_DIR.glob("*.py")
        if path.name != Path(__file__).name and not path.name.startswith("_")
    )
    if names:
        scripts = [path for path in scripts if path.stem in names or path.name in names]
    return scripts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--output", default="examples_output",
                        help="folder for the figures and files (default: %(default)s)")
    parser.add_argument("names", nargs="*", help="run only these examples")
    args = parser.parse_args(argv)
    output = Path(args.output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MPLBACKEND="Agg")
    failed = []
    for script in example_scripts(args.names):
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], cwd=output, env=env)
        took = time.perf_counter() - start
        status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        print(f"{script.name}: {status} in {took:.1f} s", flush=True)
        if result.returncode != 0:
            failed.append(script.name)
    produced = sorted(p.name for p in output.iterdir())
    print(f"{len(produced)} files in {output}: {', '.join(produced)}")
    if failed:
        print(f"failed examples: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
