"""
Synaptic currents that the post-synaptic cell's refractoriness stops, in NEURON.

Brian's ``(unless refractory)`` holds ``v`` during the refractory period,
whatever the synapses do. In the portable form (:mod:`.portable_network`) a
synapse gives a current into the membrane, so the synapse types onto such a
cell read the cell's ``not_refractory`` through a LEMS ``Requirement`` and
multiply their current by it: jNeuroML resolves the requirement from the
parent cell. jNeuroML's NEURON writer resolves only ``v``: the NMODL file of
the synapse uses ``not_refractory`` without declaring it.

`gate_synapses` declares it as a ``POINTER`` and makes the script point every
such synapse at the ``not_refractory`` of the cell mechanism on its section,
once the network is built. NEURON then computes the gated current from the
cell's state at the same moment as the cell's own current, as jNeuroML does.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["GATE", "GATE_FUNCTION", "gate_mechanisms", "gate_synapses"]

#: The variable of the cell that gates its synapses' currents.
GATE = "not_refractory"

_POINT_PROCESS = re.compile(r"^\s*POINT_PROCESS\s+(\w+)", re.MULTILINE)
_NEURON_BLOCK = re.compile(r"^NEURON\s*\{\n", re.MULTILINE)
_ASSIGNED_BLOCK = re.compile(r"^ASSIGNED\s*\{\n", re.MULTILINE)
_DECLARED = re.compile(rf"^\s*(RANGE|POINTER|GLOBAL)\s+{GATE}\b|^\s*{GATE}\s*\(|^\s*{GATE}\s*=",
                       re.MULTILINE)
_USED = re.compile(rf"\b{GATE}\b")
_SOLVE = re.compile(r"^(BREAKPOINT\s*\{\s*\n\s*SOLVE states METHOD \w+)", re.MULTILINE)
# the end of the network's set-up in jNeuroML's script
_SETUP_END = "        self.initialized = False\n"

#: The function, defined in the script, that connects the gates.
GATE_FUNCTION = f'''
def _b2t_gate_synapses(h, kinds):
    """Point the synapses of these kinds at the {GATE} of the cell on their section."""
    for section in h.allsec():
        processes = section(0.5).point_processes()
        synapses = [p for p in processes if p.hname().split("[")[0] in kinds]
        if not synapses:
            continue
        cells = [p for p in processes if p.hname().split("[")[0] not in kinds
                 and hasattr(p, "_ref_{GATE}")]
        if len(cells) != 1:
            raise RuntimeError("brian2tools: no single cell mechanism with {GATE} on "
                               + section.name())
        for synapse in synapses:
            h.setpointer(cells[0]._ref_{GATE}, "{GATE}", synapse)

'''


def _gate_mechanism(text: str) -> str | None:
    """The text of a synapse mechanism with its gate declared, or None."""
    if "NET_RECEIVE" not in text or not _USED.search(text) or _DECLARED.search(text):
        return None
    text = _NEURON_BLOCK.sub(lambda m: m.group(0) + f"    POINTER {GATE}\n", text, count=1)
    text = _ASSIGNED_BLOCK.sub(lambda m: m.group(0) + f"    {GATE}\n", text, count=1)
    # NEURON takes the current of the last state update: the cell's reset
    # event, between the two, stops it at once (as it stops the cell's own rate)
    return _SOLVE.sub(lambda m: m.group(0) + f"\n    i = i * {GATE}", text, count=1)


def gate_mechanisms(mod_files: list[Path]) -> list[str]:
    """
    Declare the gate of the synapse mechanisms that read it (a ``POINTER``).

    Parameters
    ----------
    mod_files : list of Path
        The NMODL files jNeuroML wrote (changed in place).

    Returns
    -------
    list of str
        The names of the gated synapse mechanisms; their pointers must be
        set (`GATE_FUNCTION`) before NEURON initialises.

    Examples
    --------
    >>> import tempfile
    >>> mod = Path(tempfile.mkdtemp()) / 'cell.mod'
    >>> _ = mod.write_text('NEURON {\\n    POINT_PROCESS cell\\n    RANGE not_refractory\\n}\\n'
    ...                    'NET_RECEIVE(flag) {\\n    not_refractory = 0\\n}\\n')
    >>> gate_mechanisms([mod])  # the cell declares its own: nothing to gate
    []
    """
    kinds = []
    for path in mod_files:
        text = path.read_text()
        gated = _gate_mechanism(text)
        if gated is None:
            continue
        path.write_text(gated)
        kinds.append(_POINT_PROCESS.search(text).group(1))
    return kinds


def gate_synapses(mod_files: list[Path], script: Path) -> list[str]:
    """
    Declare the gate of the synapse mechanisms that read it, and connect it in the script.

    Parameters
    ----------
    mod_files : list of Path
        The NMODL files jNeuroML wrote (changed in place).
    script : Path
        The Python script jNeuroML wrote (changed in place).

    Returns
    -------
    list of str
        The names of the gated synapse mechanisms.

    Raises
    ------
    ValueError
        If the script's set-up does not end where jNeuroML 0.14 ends it.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> mod = folder / 'syn.mod'
    >>> _ = mod.write_text('NEURON {\\n    POINT_PROCESS syn\\n}\\nASSIGNED {\\n    i (nA)\\n}\\n'
    ...                    'NET_RECEIVE(weight) {\\n}\\nPROCEDURE rates() {\\n'
    ...                    '    i = not_refractory * x\\n}\\n')
    >>> script = folder / 'model_nrn.py'
    >>> _ = script.write_text('class S:\\n    def __init__(self):\\n'
    ...                       '        self.initialized = False\\n')
    >>> gate_synapses([mod], script)
    ['syn']
    >>> 'POINTER not_refractory' in mod.read_text()
    True
    """
    kinds = gate_mechanisms(mod_files)
    if not kinds:
        return kinds
    code = script.read_text()
    if _SETUP_END not in code:
        raise ValueError(f"{script}: the end of the network's set-up was not found")
    code = code.replace(_SETUP_END, f"        _b2t_gate_synapses(h, {kinds!r})\n" + _SETUP_END,
                        1)
    lines = code.splitlines()
    for position, line in enumerate(lines):
        if line.startswith(("class ", "def ")):
            lines[position:position] = GATE_FUNCTION.splitlines()
            break
    script.write_text("\n".join(lines) + "\n")
    return kinds
