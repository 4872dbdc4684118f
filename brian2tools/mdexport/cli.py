"""
The command line of the Markdown exporter.

``python -m brian2tools.mdexport SCRIPT.py [-o FILE] [--format html|markdown|both]``
(or the command ``brian2tools-markdown``) describes an unchanged Brian
script: it selects the ``'markdown'`` device, runs the script (as
``python SCRIPT.py`` would, see :mod:`brian2tools.baseexport.scriptrunner`),
and each ``run()`` of the script writes the description instead of
simulating. ``set_device`` calls in the script are ignored, and errors after
the last ``run()`` (plots of results that do not exist) are reported as
notes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .device import FORMATS, output_paths

__all__ = ["DescriptionResult", "describe_script", "main"]

# exit codes, as for python -m brian2tools.nmlexport
_EXPORT_FAILED, _USAGE = 1, 2


@dataclass
class DescriptionResult:
    """
    What describing a script produced.

    Attributes
    ----------
    files : list of Path
        The files written (Markdown and/or HTML).
    runs : int
        Number of ``run()`` calls described.
    notes : list of str
        What the user should know (ignored ``set_device`` calls, an error
        after the last ``run()``, ...).
    """

    files: list
    runs: int
    notes: list = field(default_factory=list)


def describe_script(
    script: str | os.PathLike,
    output: str | os.PathLike | None = None,
    format: str = "markdown",
    script_args: Sequence[str] = (),
) -> DescriptionResult:
    """
    Describe a Brian script in Markdown and/or HTML without changing it.

    Parameters
    ----------
    script : str or os.PathLike
        The Brian script.
    output : str or os.PathLike, optional
        The file to write (default: the script's name with ``.md`` /
        ``.html``, in the current folder); see
        `~brian2tools.mdexport.output_paths`.
    format : {'markdown', 'html', 'both'}, optional
        Which files to write.
    script_args : sequence of str, optional
        Arguments for the script (its ``sys.argv[1:]``).

    Returns
    -------
    DescriptionResult

    Raises
    ------
    FileNotFoundError
        If the script does not exist.
    ValueError
        For an unknown ``format``.
    UnsupportedFeatureError
        If the model cannot be described (raised by the script's ``run()``).
    RuntimeError
        If the script calls no ``run()``, or fails before its first one.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> script = os.path.join(folder, 'decay.py')
    >>> with open(script, 'w') as f:
    ...     _ = f.write("from brian2 import *\\n"
    ...                 "G = NeuronGroup(1, 'dv/dt = -v/(10*ms) : 1', method='exact')\\n"
    ...                 "run(1*ms)\\n")
    >>> result = describe_script(script, os.path.join(folder, 'decay'), format='both')
    >>> result.runs, [path.name for path in result.files]
    (1, ['decay.md', 'decay.html'])
    """
    import brian2tools.mdexport  # noqa: F401 -- registers the 'markdown' device

    from ..baseexport.scriptrunner import run_script

    script = Path(script)
    if not script.is_file():
        raise FileNotFoundError(f"No Brian script at '{script}'.")
    output = Path(output) if output else Path.cwd() / script.stem
    paths = output_paths(output.resolve(), format)  # checks format before running anything
    Path(next(iter(paths.values()))).parent.mkdir(parents=True, exist_ok=True)
    outcome = run_script(
        script, "markdown", {"filename": str(output.resolve()), "format": format}, script_args,
        target=", ".join(paths.values()),
        collect=lambda device: [Path(path) for path in device.files])
    return DescriptionResult(outcome.result or [], outcome.runs, outcome.notes)


def _parser() -> argparse.ArgumentParser:
    import brian2tools

    parser = argparse.ArgumentParser(
        prog="python -m brian2tools.mdexport",
        description="Describe a Brian 2 script in Markdown and/or HTML (no change to the "
                    "script needed): equations, events, connections, inputs, monitors and "
                    "runs, with the math typeset.")
    parser.add_argument("script", help="the Brian script to describe")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="the file to write (default: the script's name with .md / .html, "
                             "in the current folder)")
    parser.add_argument("--format", choices=tuple(FORMATS), default="markdown",
                        help="markdown (default): FILE.md; html: a standalone page FILE.html "
                             "with the math as MathML; both")
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s (brian2tools {brian2tools.__version__})")
    parser.epilog = ("Other arguments are passed on to the script (after '--' if they could "
                     "be taken for the options above).")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 1 if the description failed, 2 for
        wrong arguments.

    Examples
    --------
    >>> main(['no_such_script.py'])  # says on stderr that there is no such script
    2
    """
    from ..baseexport import UnsupportedFeatureError

    arguments, script_args = _parser().parse_known_args(argv)
    if script_args[:1] == ["--"]:
        script_args = script_args[1:]
    try:
        result = describe_script(arguments.script, arguments.output, arguments.format,
                                 script_args)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return _USAGE
    except (UnsupportedFeatureError, RuntimeError, ValueError, TypeError) as error:
        print(f"error: the script could not be described: {error}", file=sys.stderr)
        return _EXPORT_FAILED
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    written = ", ".join(str(path) for path in result.files)
    print(f"Described {result.runs} run(s) of {arguments.script} in {written}")
    return 0
