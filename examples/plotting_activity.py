"""
Plotting recorded activity: spikes, rates and state variables.

Runs the CUBA network of the documentation (4000 integrate-and-fire neurons
with current-based synapses, 1 s) and draws every activity figure of the
"Plotting recorded activity" section, each saved as a PNG file in the
current working directory:

- ``activity_brian_plot_spikes.png``: ``brian_plot(spike_mon)``
- ``activity_plot_raster.png``: ``plot_raster`` with pixel markers, in seconds
- ``activity_brian_plot_rate.png``: ``brian_plot(rate_mon)`` (1 ms Gaussian smoothing)
- ``activity_plot_rate.png``: ``plot_rate`` with a 10.1 ms flat window
- ``activity_brian_plot_state.png``: ``brian_plot(state_mon)`` (three neurons,
  with a legend of their indices)
- ``activity_brian_plot_state_two_variables.png``: ``brian_plot`` of a monitor
  recording ``v`` and ``ge``: one panel each, returned as a list
- ``activity_brian_plot_state_1000.png``: ``brian_plot(state_mon[1000])``
- ``activity_plot_state_legend.png``: ``plot_state`` and a legend on the returned axes
"""

import matplotlib

matplotlib.use("Agg")  # files only, no windows

import matplotlib.pyplot as plt  # noqa: E402
from brian2 import (  # noqa: E402
    NeuronGroup,
    PopulationRateMonitor,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    ms,
    mV,
    run,
    second,
    seed,
)

from brian2tools import brian_plot, plot_raster, plot_rate, plot_state  # noqa: E402

seed(11922)  # the same network and figures on every run

Vt = -50 * mV
Vr = -60 * mV

eqs = """dv/dt = (ge+gi-(v + 49*mV))/(20*ms) : volt (unless refractory)
dge/dt = -ge/(5*ms) : volt
dgi/dt = -gi/(10*ms) : volt
"""
P = NeuronGroup(4000, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms,
                method="linear")
P.v = "Vr + rand() * (Vt - Vr)"
P.ge = 0 * mV
P.gi = 0 * mV

we = (60 * 0.27 / 10) * mV  # excitatory synaptic weight (voltage)
wi = (-20 * 4.5 / 10) * mV  # inhibitory synaptic weight
Ce = Synapses(P[:3200], P, on_pre="ge += we")
Ci = Synapses(P[3200:], P, on_pre="gi += wi")
Ce.connect(p=0.02)
Ci.connect(p=0.02)

spike_mon = SpikeMonitor(P)
rate_mon = PopulationRateMonitor(P)
state_mon = StateMonitor(P, "v", record=[0, 100, 1000])  # record three cells
two_var_mon = StateMonitor(P, ["v", "ge"], record=[0, 100])

run(1 * second)


def save(filename):
    """
    Save the current figure into the working directory and start a new one.

    ``bbox_inches='tight'`` crops the file to what was drawn (a small margin
    around labels and legends) instead of keeping the figure's blank border.
    """
    plt.savefig(filename, dpi=100, bbox_inches="tight", pad_inches=0.05)
    plt.close()
    print(f"wrote {filename}")


# Spikes
brian_plot(spike_mon)
save("activity_brian_plot_spikes.png")

plot_raster(spike_mon.i, spike_mon.t, time_unit=second, marker=",", color="k")
save("activity_plot_raster.png")

# Rates
brian_plot(rate_mon)
save("activity_brian_plot_rate.png")

plot_rate(rate_mon.t, rate_mon.smooth_rate(window="flat", width=10.1 * ms),
          linewidth=3, color="gray")
save("activity_plot_rate.png")

# State variables
brian_plot(state_mon)
save("activity_brian_plot_state.png")

brian_plot(state_mon[1000])
save("activity_brian_plot_state_1000.png")

ax_v, ax_ge = brian_plot(two_var_mon)  # one axes per variable, in the monitor's order
ax_v.set_title("two recorded variables")
save("activity_brian_plot_state_two_variables.png")

ax = plot_state(state_mon.t, state_mon.v.T, var_name="membrane potential", lw=2)
ax.legend(["neuron 0", "neuron 100", "neuron 1000"], frameon=False, loc="best")
save("activity_plot_state_legend.png")
