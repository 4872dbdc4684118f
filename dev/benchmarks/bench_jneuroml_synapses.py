"""
Benchmark: jNeuroML simulation time of the two forms of exported synapses.

The documented CUBA network, scaled to N cells with 80 inputs per cell and
driven by a PoissonInput, is exported twice with the ``'neuroml2'`` device:
with ``synapses='components'`` (NeuroML synapse components in projections,
one instance per synapse, the default) and with ``synapses='events'``
(events into ports of the receiving cells). Both are simulated with the
jNeuroML jar of pyNeuroML; the script prints jNeuroML's own time for the
run loop ("Finished N steps in X seconds"), the wall time of the whole
process, the number of spikes (the same in both forms when jNeuroML draws
the same Poisson spikes) and the ratio components / events.

Needs Java and pyNeuroML. Run it with the Python of the environment to
measure::

    python dev/benchmarks/bench_jneuroml_synapses.py [N] [DURATION_MS]

(default: 400 cells, 100 ms).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

_EXPORT = textwrap.dedent("""
    import sys
    from brian2 import *
    import brian2tools.nmlexport
    prefs.codegen.target = 'numpy'
    n, duration, form = int(sys.argv[1]), float(sys.argv[2]) * ms, sys.argv[3]
    set_device('neuroml2', filename=f'cuba_{form}.xml', synapses=form)
    seed(1)
    taum, taue, taui = 20*ms, 5*ms, 10*ms
    Vt, Vr, El = -50*mV, -60*mV, -49*mV
    P = NeuronGroup(n, '''dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
                          dge/dt = -ge/taue : volt
                          dgi/dt = -gi/taui : volt''',
                    threshold='v>Vt', reset='v = Vr', refractory=5*ms, method='euler')
    P.v = 'Vr + rand() * (Vt - Vr)'
    n_exc = int(0.8 * n)
    Ce = Synapses(P[:n_exc], P, on_pre='ge += (60*0.27/10)*mV')
    Ce.connect(p=80 / n)
    Ci = Synapses(P[n_exc:], P, on_pre='gi += (-20*4.5/10)*mV')
    Ci.connect(p=80 / n)
    noise = PoissonInput(P, 'ge', 20, 10*Hz, weight=0.5*mV)
    spikes = SpikeMonitor(P, name='spikes')
    run(duration)
    print(len(Ce) + len(Ci))
""")


def _jar() -> str:
    import pyneuroml

    jars = sorted((Path(pyneuroml.__file__).parent / "lib").glob(
        "jNeuroML-*-jar-with-dependencies.jar"))
    if not jars:
        raise SystemExit("pyneuroml ships no jNeuroML jar here")
    return str(jars[-1])


def _simulate(folder: Path, form: str, n: int, duration_ms: float) -> dict:
    exported = subprocess.run([sys.executable, "-c", _EXPORT, str(n), str(duration_ms), form],
                              cwd=folder, capture_output=True, text=True, check=True)
    start = time.perf_counter()
    log = subprocess.run(["java", "-jar", _jar(), f"cuba_{form}.xml", "-nogui"], cwd=folder,
                         capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - start
    loop = re.search(r"Finished \d+ steps in ([0-9.]+) seconds", log)
    spikes = (folder / "recording_spikes.spikes").read_text().count("\n")
    return {"synapses": int(exported.stdout.split()[-1]), "loop": float(loop.group(1)),
            "wall": wall, "spikes": spikes}


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 400
    duration_ms = float(argv[1]) if len(argv) > 1 else 100.0
    results = {}
    for form in ("events", "components"):
        with tempfile.TemporaryDirectory() as folder:
            results[form] = _simulate(Path(folder), form, n, duration_ms)
    print(f"CUBA, {n} cells, {results['events']['synapses']} synapses, "
          f"{duration_ms:g} ms simulated in jNeuroML")
    for form, result in results.items():
        print(f"  synapses={form!r:13} run loop {result['loop']:7.2f} s, "
              f"process {result['wall']:7.2f} s wall, {result['spikes']} spikes")
    print(f"  components / events (run loop): "
          f"{results['components']['loop'] / results['events']['loop']:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
