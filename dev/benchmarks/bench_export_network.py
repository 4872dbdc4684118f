"""
Benchmark: NeuroML2/LEMS export of the full documented CUBA network.

4000 integrate-and-fire cells, about 320,000 synapses (p = 0.02), exported
with ``set_device('neuroml2', ...)`` and ``run(1*second)``. Each measurement
runs in a fresh Python process and reports:

* the CPU and wall time of building the network and exporting it (the
  ``run()``), next to two references measured the same way: building the
  same network with Brian's runtime device without running it (what any
  export has to pay), and writing as many connection elements with plain
  :mod:`xml.etree.ElementTree` (the cost of the XML itself);
* the peak memory of the process (``ru_maxrss``, imports included) and the
  peak of Python allocations during the export (tracemalloc, in a separate
  run because tracing slows Python down);
* the size of the model file.

Run it with the Python of the environment to measure::

    python dev/benchmarks/bench_export_network.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap

_NETWORK = """
from brian2 import *
prefs.codegen.target = 'numpy'
seed(1)
taum = 20*ms; taue = 5*ms; taui = 10*ms
Vt = -50*mV; Vr = -60*mV; El = -49*mV
eqs = '''
dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
dge/dt = -ge/taue : volt
dgi/dt = -gi/taui : volt
'''
P = NeuronGroup(4000, eqs, threshold='v>Vt', reset='v = Vr', refractory=5*ms,
                method='exact')
P.v = 'Vr + rand() * (Vt - Vr)'
P.ge = 0*mV
P.gi = 0*mV
we = (60*0.27/10)*mV
wi = (-20*4.5/10)*mV
Ce = Synapses(P, P, on_pre='ge += we')
Ci = Synapses(P, P, on_pre='gi += wi')
Ce.connect('i<3200', p=0.02)
Ci.connect('i>=3200', p=0.02)
s_mon = SpikeMonitor(P)
"""

_EXPORT = """
import json, os, resource, sys, time
{tracing}
import brian2tools.nmlexport
from brian2 import set_device
filename = sys.argv[1]
set_device('neuroml2', filename=filename)
_cpu, _wall = time.process_time(), time.perf_counter()
{network}
run(1*second)
cpu, wall = time.process_time() - _cpu, time.perf_counter() - _wall
peak_python = tracemalloc.get_traced_memory()[1] if {traced} else None
print(json.dumps({{'cpu': cpu, 'wall': wall, 'synapses': len(Ce) + len(Ci),
                  'maxrss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  'python_peak_mb': None if peak_python is None else peak_python / 2**20,
                  'size_mb': os.path.getsize(filename) / 2**20}}))
"""

_BUILD_ONLY = """
import json, time
from brian2 import *  # imported before the clock starts, as in the export's run
_cpu = time.process_time()
{network}
print(json.dumps({{'cpu': time.process_time() - _cpu, 'synapses': len(Ce) + len(Ci)}}))
"""

_RAW_XML = """
import json, time
import xml.etree.ElementTree as ET
import numpy as np
n = {synapses}
rng = np.random.default_rng(1)
i, j = rng.integers(0, 4000, n), rng.integers(0, 4000, n)
_cpu = time.process_time()
network = ET.Element('network', id='net')
projection = ET.SubElement(network, 'projection', id='Ce_pre_projection')
for k, (a, b) in enumerate(zip(i.tolist(), j.tolist())):
    ET.SubElement(projection, 'connectionWD', {{'id': str(k), 'preCellId': f'../P[{{a}}]',
                  'postCellId': f'../P[{{b}}]', 'weight': '1', 'delay': '5e-05 s'}})
ET.indent(network)
text = ET.tostring(network, encoding='unicode')
print(json.dumps({{'cpu': time.process_time() - _cpu}}))
"""


def _run(code: str, *arguments: str) -> dict:
    completed = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True,
                               text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-3000:])
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(repeats: int = 3) -> None:
    """Measure and print the figures (best of ``repeats`` fresh processes for times)."""
    network = textwrap.dedent(_NETWORK)
    with tempfile.TemporaryDirectory() as folder:
        model = os.path.join(folder, "cuba.xml")
        plain = _EXPORT.format(tracing="", network=network, traced=False)
        exports = [_run(plain, model) for _ in range(repeats)]
        traced = _EXPORT.format(tracing="import tracemalloc; tracemalloc.start()",
                                network=network, traced=True)
        tracing = _run(traced, model)
        builds = [_run(_BUILD_ONLY.format(network=network)) for _ in range(repeats)]
        synapses = exports[0]["synapses"]
        raws = [_run(_RAW_XML.format(synapses=synapses)) for _ in range(repeats)]

    best = min(exports, key=lambda e: e["cpu"])
    build = min(b["cpu"] for b in builds)
    raw = min(r["cpu"] for r in raws)
    print(f"CUBA network: 4000 cells, {synapses} synapses, run(1*second)")
    print(f"  export (build + run):     {best['cpu']:6.2f} s CPU, {best['wall']:6.2f} s wall")
    print(f"  Brian build only:         {build:6.2f} s CPU  -> export/build = "
          f"{best['cpu'] / build:.2f}")
    print(f"  raw ElementTree XML:      {raw:6.2f} s CPU  -> export/raw XML = "
          f"{best['cpu'] / raw:.2f}")
    print(f"  export without the build: {best['cpu'] - build:6.2f} s CPU")
    print(f"  peak memory (maxrss):     {max(e['maxrss_mb'] for e in exports):6.0f} MB")
    print(f"  peak Python allocations:  {tracing['python_peak_mb']:6.0f} MB (tracemalloc)")
    print(f"  model file:               {best['size_mb']:6.1f} MB "
          f"({best['size_mb'] * 2**20 / synapses:.0f} bytes per synapse)")


if __name__ == "__main__":
    main()
