"""
Does the timing of synaptic events explain a rate difference between Brian and jNeuroML?

The CUBA network scaled to 1000 cells (80 inputs per cell, a PoissonInput of
20 x 10 Hz, dt = 0.1 ms, 200 ms). ``python cuba_event_timing.py brian``
prints Brian's spike counts for seeds 1 to 8: Euler without a delay, Euler
with a delay of one step, exact integration without a delay.
``python cuba_event_timing.py jneuroml DELAY_STEPS SEED`` exports the network
built with that seed (events form) and prints jNeuroML's spike count and the
seconds it took. Results are in the user guide (docs/nmlexport_network.rst).
Heavy: about 2 minutes for Brian, 1 to 2 minutes per jNeuroML run.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from brian2 import (
    Hz,
    Network,
    NeuronGroup,
    PoissonInput,
    SpikeMonitor,
    Synapses,
    defaultclock,
    ms,
    mV,
    prefs,
    seed,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete

import brian2tools.nmlexport.lemsexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.nmlexport import load_recordings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests"))
from nml_helpers import finish_jneuroml, start_jneuroml  # noqa: E402

prefs.codegen.target = "numpy"
DT = 0.1 * ms
N, DURATION = 1000, 200 * ms


def cuba(method: str, delay_steps: int = 0) -> list:
    """The network's objects, its synapses delayed by ``delay_steps`` time steps."""
    namespace = {"taum": 20 * ms, "taue": 5 * ms, "taui": 10 * ms, "Vt": -50 * mV,
                 "Vr": -60 * mV, "El": -49 * mV}
    cells = NeuronGroup(N, """dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
                              dge/dt = -ge/taue : volt
                              dgi/dt = -gi/taui : volt""", threshold="v>Vt",
                        reset="v = Vr", refractory=5 * ms, method=method,
                        namespace=namespace, name="cuba")
    cells.v = "Vr + rand() * (Vt - Vr)"
    n_exc = int(0.8 * N)
    excitatory = Synapses(cells[:n_exc], cells, on_pre="ge += we",
                          namespace={"we": (60 * 0.27 / 10) * mV}, delay=delay_steps * DT,
                          name="exc")
    excitatory.connect(p=80 / N)
    inhibitory = Synapses(cells[n_exc:], cells, on_pre="gi += wi",
                          namespace={"wi": (-20 * 4.5 / 10) * mV}, delay=delay_steps * DT,
                          name="inh")
    inhibitory.connect(p=80 / N)
    noise = PoissonInput(cells, "ge", 20, 10 * Hz, weight=0.5 * mV)
    return [cells, excitatory, inhibitory, noise, SpikeMonitor(cells, name="cuba_spikes")]


def brian_count(method: str, delay_steps: int, random_seed: int) -> int:
    """Brian's number of spikes."""
    start_scope()
    seed(random_seed)
    defaultclock.dt = DT
    objects = cuba(method, delay_steps)
    Network(objects).run(DURATION)
    return int(objects[-1].num_spikes)


def jneuroml_count(delay_steps: int, random_seed: int) -> tuple[int, float]:
    """jNeuroML's number of spikes for the export (events form), and the seconds it took."""
    folder = os.path.join(tempfile.gettempdir(), f"cuba_j_{delay_steps}_{random_seed}")
    os.makedirs(folder, exist_ok=True)
    model = os.path.join(folder, "cuba.xml")
    start_scope()
    set_device("neuroml2", filename=model, synapses="events")
    try:
        seed(random_seed)
        defaultclock.dt = DT
        Network(cuba("linear", delay_steps)).run(DURATION)
    finally:
        reinit_and_delete()
        set_device("runtime")
        prefs.codegen.target = "numpy"
    start = time.time()
    finish_jneuroml(start_jneuroml(model), timeout=1200)
    return len(load_recordings(model)["cuba_spikes"]["t"]), time.time() - start


def main() -> None:
    """Print the counts asked for on the command line (see the module docstring)."""
    if sys.argv[1] == "brian":
        counts = {}
        for method, delay_steps in (("euler", 0), ("euler", 1), ("exact", 0)):
            counts[f"{method}, delay {delay_steps}"] = [
                brian_count(method, delay_steps, random_seed) for random_seed in range(1, 9)]
        print(json.dumps(counts))
    else:
        print(json.dumps(jneuroml_count(int(sys.argv[2]), int(sys.argv[3]))))


if __name__ == "__main__":
    main()
