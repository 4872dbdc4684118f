"""
Simulating an export in jNeuroML and NEURON, against Brian, in one run.

The model: ``N`` integrate-and-fire neurons with refractoriness (the
documentation's model), driven to fire at about 30 Hz, recorded by a
SpikeMonitor, simulated for 1 s with dt = 0.1 ms. It is exported in the
portable form (one NeuroML population per distinct set of cell values) and
simulated by each engine from the same file; Brian simulates the script
itself. Printed: wall time of each (NEURON's first run with its
``nrnivmodl``, and a second run with the compiled mechanisms from the
cache), the ratio to Brian, and the spike counts (which must agree).

The second case gives every cell its own ``v0`` in ``K`` distinct values
(NEURON compiles one mechanism for them all, see
:mod:`brian2tools.nmlexport.neuron_code`).

The third case is Brian's documented CUBA network in the portable form
(4000 cells, 20% inhibitory, connection probability 0.02, 5 ms refractoriness
with ``(unless refractory)``, random initial ``v``: one population whose
cells get their own initial values), 1 s, in Brian and NEURON.

Usage: ``python dev/benchmarks/bench_engines.py [N] [K]`` (defaults 1000, 10), or
``python dev/benchmarks/bench_engines.py network`` for the third case alone.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

from brian2 import (
    Network,
    NeuronGroup,
    SpikeMonitor,
    Synapses,
    defaultclock,
    ms,
    mV,
    prefs,
    run,
    second,
    seed,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete

import brian2tools.nmlexport  # noqa: F401 -- the 'neuroml2' device
from brian2tools.nmlexport.engines import simulate


def build(n: int, distinct: int):
    start_scope()
    defaultclock.dt = 0.1 * ms
    group = NeuronGroup(n, "dv/dt = (v0 - v) / (10*ms) : volt (unless refractory)\nv0 : volt",
                        threshold="v > 10*mV", reset="v = 0*mV", refractory=5 * ms,
                        method="euler")
    group.v0 = f"(15 + 10 * (i % {distinct}) / {max(distinct - 1, 1)})*mV"
    return group, SpikeMonitor(group)


def brian_run(n: int, distinct: int, target: str) -> tuple[float, int]:
    prefs.codegen.target = target
    group, spikes = build(n, distinct)
    run(1 * ms)  # compilation (cython) and set-up, not timed
    start = time.perf_counter()
    run(1 * second - 1 * ms)
    elapsed = time.perf_counter() - start
    count = int(spikes.num_spikes)
    reinit_and_delete()
    return elapsed, count


def export(n: int, distinct: int, folder: Path) -> Path:
    model = folder / f"lif_{n}_{distinct}.xml"
    set_device("neuroml2", filename=str(model), portable=True)
    prefs.codegen.target = "numpy"
    group, spikes = build(n, distinct)  # noqa: F841 -- collected by run()
    run(1 * second)
    reinit_and_delete()
    set_device("runtime")
    return model


def spike_count(model: Path) -> int:
    spikes = next(model.parent.glob(f"recording_{model.stem}.spikes"))
    return sum(1 for line in spikes.read_text().splitlines() if line.strip())


def case(n: int, distinct: int) -> None:
    print(f"\n{n} neurons, {distinct} distinct value(s) of v0, 1 s of simulated time")
    for target in ("numpy", "cython"):
        try:
            seconds, count = brian_run(n, distinct, target)
        except Exception as error:  # noqa: BLE001 -- a missing compiler only skips a line
            print(f"  Brian ({target}): not available ({error})")
            continue
        print(f"  Brian ({target:6s}) {seconds:8.2f} s   {count} spikes")
        if target == "numpy":
            reference = seconds
    with tempfile.TemporaryDirectory() as folder:
        model = export(n, distinct, Path(folder))
        cache = Path(folder) / "cache"
        for label, engine in (("jNeuroML", "jneuroml"), ("NEURON (compiles)", "neuron"),
                              ("NEURON (cached)", "neuron")):
            start = time.perf_counter()
            result = simulate(model, engine, cache=cache if engine == "neuron" else True,
                              timeout=3600)
            seconds = time.perf_counter() - start
            steps = ", ".join(f"{step} {value:.1f} s"
                              for step, value in result.step_times.items())
            print(f"  {label:18s} {seconds:8.2f} s   {spike_count(model)} spikes   "
                  f"{seconds / reference:6.1f}x Brian (numpy)   [{steps}]")


def network(method: str = "exact"):
    """Brian's CUBA example, as documented (with names for the monitors)."""
    start_scope()
    seed(4)
    defaultclock.dt = 0.1 * ms
    namespace = {"taum": 20 * ms, "taue": 5 * ms, "taui": 10 * ms, "El": -49 * mV,
                 "Vt": -50 * mV, "Vr": -60 * mV, "we": (60 * 0.27 / 10) * mV,
                 "wi": (-20 * 4.5 / 10) * mV}
    cells = NeuronGroup(4000, """dv/dt = (ge + gi - (v - El))/taum : volt (unless refractory)
                                 dge/dt = -ge/taue : volt
                                 dgi/dt = -gi/taui : volt""",
                        threshold="v > Vt", reset="v = Vr", refractory=5 * ms, method=method,
                        namespace=namespace, name="P")
    cells.v = "Vr + rand() * (Vt - Vr)"
    cells.ge = 0 * mV
    cells.gi = 0 * mV
    excitation = Synapses(cells, cells, on_pre="ge += we", namespace=namespace, name="Ce")
    excitation.connect("i < 3200", p=0.02)
    inhibition = Synapses(cells, cells, on_pre="gi += wi", namespace=namespace, name="Ci")
    inhibition.connect("i >= 3200", p=0.02)
    spikes = SpikeMonitor(cells)
    # the objects live in this function: the network holds them
    return Network(cells, excitation, inhibition, spikes), spikes, namespace


def network_case() -> None:
    print("\nCUBA (Brian's example) in the portable form, 4000 cells, 1 s")
    prefs.codegen.target = "numpy"
    net, spikes, namespace = network()
    net.run(1 * ms, namespace=namespace)
    start = time.perf_counter()
    net.run(1 * second - 1 * ms, namespace=namespace)
    reference = time.perf_counter() - start
    print(f"  Brian (numpy)      {reference:8.2f} s   {int(spikes.num_spikes)} spikes")
    reinit_and_delete()
    with tempfile.TemporaryDirectory() as folder:
        model = Path(folder) / "cuba.xml"
        set_device("neuroml2", filename=str(model), portable=True)
        net, spikes, namespace = network()
        start = time.process_time()
        net.run(1 * second, namespace=namespace)
        print(f"  export             {time.process_time() - start:8.2f} s CPU")
        reinit_and_delete()
        set_device("runtime")
        for label in ("NEURON (compiles)", "NEURON (cached)"):
            start = time.perf_counter()
            result = simulate(model, "neuron", cache=Path(folder) / "cache", timeout=3600,
                              linear_synapses=True)
            seconds = time.perf_counter() - start
            steps = ", ".join(f"{step} {value:.1f} s"
                              for step, value in result.step_times.items())
            print(f"  {label:18s} {seconds:8.2f} s   {spike_count(model)} spikes   "
                  f"{seconds / reference:6.1f}x Brian (numpy)   [{steps}]")
            # NEURON's own report of its simulation loop (h.run), set-up excluded
            loop = re.search(r"Finished NEURON simulation in ([\d.]+) seconds", result.log)
            if loop:
                print(f"  {'  of which h.run':18s} {float(loop.group(1)):8.2f} s   "
                      f"{float(loop.group(1)) / reference:6.1f}x Brian (numpy)")


def main() -> None:
    if sys.argv[1:] == ["network"]:
        network_case()
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    distinct = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    case(n, 1)
    case(n, distinct)
    network_case()


if __name__ == "__main__":
    main()
