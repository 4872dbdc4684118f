"""
Coverage of real-world-style Brian scripts by the exporters.

Runs every script of ``dev/coverage/scripts`` (or those given) in its own
subprocess, with a timeout, in up to four ways:

``brian``
    plain Brian (runtime device, numpy target): the script must work;
``markdown``
    under the ``'markdown'`` device (brian2tools' script runner, as
    ``python -m brian2tools.mdexport SCRIPT`` does);
``neuroml``
    under the ``'neuroml2'`` device, export only (as
    ``python -m brian2tools.nmlexport SCRIPT``);
``jneuroml``
    under the ``'neuroml2'`` device with ``simulate='jneuroml'`` (costly:
    only with ``--jneuroml``, and only for the scripts whose export
    succeeded); a ``SpatialNeuron``, which jNeuroML cannot simulate, is
    simulated with ``simulate='neuron'`` instead (the outcome's ``engine``
    says which engine ran).

Each outcome is classified as ``ran``/``exported`` (success), ``refused``
(an `UnsupportedFeatureError`: the feature text is kept), ``crashed`` (any
other exception: a bug) or ``timeout``. The table and the percentages (of
the scripts that Brian itself runs) are printed; ``--json FILE`` also writes
the outcomes.

Usage::

    PYTHONPATH=$PWD python dev/coverage/run_coverage.py
    PYTHONPATH=$PWD python dev/coverage/run_coverage.py --modes markdown cuba.py
    PYTHONPATH=$PWD python dev/coverage/run_coverage.py --jneuroml --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "scripts"
MODES = ("brian", "markdown", "neuroml", "jneuroml")
SUCCESS = {"brian": "ran", "markdown": "exported", "neuroml": "exported",
           "jneuroml": "simulated"}
_MARKER = "COVERAGE-RESULT:"


# --------------------------------------------------------------------------- #
# The worker: one script, one mode, in this (sub)process
# --------------------------------------------------------------------------- #
def _worker(mode: str, script: str, folder: str) -> dict:
    """Run ``script`` in ``mode`` and return its outcome as a dict."""
    os.environ["MPLBACKEND"] = "Agg"
    os.chdir(folder)  # files the script or the device writes go there
    stem = Path(script).stem
    if mode == "brian":
        import runpy

        try:
            sys.argv = [script]
            sys.path.insert(0, str(Path(script).parent))
            runpy.run_path(script, run_name="__main__")
        except Exception as error:  # noqa: BLE001 -- classified, not handled
            return {"status": "crashed", "error": f"{type(error).__name__}: {error}"}
        return {"status": "ran"}

    from brian2tools.baseexport import SimulationError, UnsupportedFeatureError
    from brian2tools.baseexport.scriptrunner import run_script

    if mode == "markdown":
        import brian2tools.mdexport  # noqa: F401 -- registers the device

        device, options = "markdown", {"filename": os.path.join(folder, stem)}
    else:
        import brian2tools.nmlexport  # noqa: F401 -- registers the device

        device = "neuroml2"
        options = {"filename": os.path.join(folder, stem + ".xml")}
        if mode == "jneuroml":
            options["simulate"] = "jneuroml"
    engine = options.get("simulate")
    try:
        try:
            outcome = run_script(script, device, options)
        except UnsupportedFeatureError as error:
            # jNeuroML cannot simulate multi-compartment cells; the device
            # says so and names NEURON, which is the engine the export targets.
            if engine != "jneuroml" or "use simulate='neuron'" not in (error.hint or ""):
                raise
            engine = options["simulate"] = "neuron"
            outcome = run_script(script, device, options)
    except UnsupportedFeatureError as error:
        return {"status": "refused", "object": error.object_name, "feature": error.feature}
    except SimulationError as error:
        return {"status": "crashed", "error": f"{type(error).__name__}: {error}"[:2000]}
    except Exception as error:  # noqa: BLE001 -- classified, not handled
        return {"status": "crashed", "error": f"{type(error).__name__}: {error}"[:2000]}
    written = options["filename"] + (".md" if mode == "markdown" else "")
    if mode != "markdown" and not os.path.exists(written):
        # a script with restore(): one simulation per trial (brian2tools.nmlexport.trials)
        written = os.path.join(folder, stem + "_trial1.xml")
    if not os.path.exists(written):
        return {"status": "crashed", "error": f"reported {outcome.runs} run(s) but wrote no "
                f"{os.path.basename(written)}; notes: {outcome.notes}"}
    result = {"status": SUCCESS[mode], "runs": outcome.runs, "notes": outcome.notes}
    if engine is not None:
        result["engine"] = engine
    return result


# --------------------------------------------------------------------------- #
# The parent: subprocesses, table, percentages
# --------------------------------------------------------------------------- #
def run_one(mode: str, script: Path, timeout: float) -> dict:
    """Run one script in one mode in a subprocess; its outcome with the time taken."""
    with tempfile.TemporaryDirectory(prefix=f"cov_{mode}_") as folder:
        start = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--worker", mode, str(script), folder],
                capture_output=True, text=True, timeout=timeout,
                env={**os.environ, "MPLBACKEND": "Agg"},
            )
        except subprocess.TimeoutExpired:
            return {"status": "timeout", "seconds": timeout}
        seconds = time.monotonic() - start
    lines = [line for line in done.stdout.splitlines() if line.startswith(_MARKER)]
    if not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"status": "crashed", "error": "worker died: " + " | ".join(tail),
                "seconds": seconds}
    result = json.loads(lines[-1][len(_MARKER):])
    result["seconds"] = round(seconds, 1)
    return result


def _cell(result: dict | None) -> str:
    if result is None:
        return "-"
    status = result["status"]
    if status == "refused":
        return f"refused: {result['object']}: {result['feature']}"
    if status == "crashed":
        return f"CRASHED: {result['error'][:160]}"
    return status


def summarize(results: dict[str, dict[str, dict]], modes) -> str:
    """The table (one block per script) and the percentages, as text."""
    lines = []
    for script, outcome in results.items():
        lines.append(script)
        for mode in modes:
            if mode in outcome:
                lines.append(f"    {mode:9s} {_cell(outcome[mode])}")
    lines.append("")
    ran = [script for script, outcome in results.items()
           if outcome.get("brian", {}).get("status") == "ran" or "brian" not in outcome]
    lines.append(f"{len(results)} scripts, {len(ran)} run under plain Brian")
    for mode in modes:
        if mode == "brian":
            continue
        counts: dict[str, int] = {}
        for script in ran:
            status = results[script].get(mode, {"status": "not run"})["status"]
            counts[status] = counts.get(status, 0) + 1
        total = len(ran)
        parts = ", ".join(f"{status} {count} ({100 * count / total:.0f}%)"
                          for status, count in sorted(counts.items()))
        lines.append(f"{mode:9s} {parts}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scripts", nargs="*", help="script names (default: all)")
    parser.add_argument("--modes", nargs="+", choices=MODES,
                        default=["brian", "markdown", "neuroml"])
    parser.add_argument("--jneuroml", action="store_true",
                        help="also simulate the exported scripts in jNeuroML (costly)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds per script and mode (default 300)")
    parser.add_argument("--json", help="also write the outcomes to this file")
    parser.add_argument("--worker", nargs=3, metavar=("MODE", "SCRIPT", "FOLDER"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        mode, script, folder = args.worker
        result = _worker(mode, script, folder)
        print(_MARKER + json.dumps(result, default=str), flush=True)
        return 0
    scripts = sorted(SCRIPTS.glob("*.py"))
    if args.scripts:
        wanted = {Path(name).stem for name in args.scripts}
        scripts = [script for script in scripts if script.stem in wanted]
    modes = list(args.modes)
    if args.jneuroml and "jneuroml" not in modes:
        modes.append("jneuroml")
    results: dict[str, dict[str, dict]] = {}
    for script in scripts:
        outcome: dict[str, dict] = {}
        for mode in modes:
            if mode == "jneuroml" and outcome.get("neuroml", {}).get("status", "exported") \
                    != "exported":
                continue  # only the exported ones are worth simulating
            outcome[mode] = run_one(mode, script, args.timeout)
        results[script.name] = outcome
        print(script.name, {mode: _cell(result)[:100] for mode, result in outcome.items()},
              flush=True)
    print()
    print(summarize(results, modes))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
