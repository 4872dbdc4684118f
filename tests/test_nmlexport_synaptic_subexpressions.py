"""
Subexpressions of Synapses: written out where they are used, exact in jNeuroML.

A subexpression of a ``Synapses`` (``w_eff = 2*w : 1``) used in a pathway,
for synapses without a state of their own and for plastic ones (an
event-driven trace in the subexpression); every sample of the receiving
cells is compared with Brian. Recording a synaptic subexpression is refused
by name.
"""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import (
    NeuronGroup,
    SpikeGeneratorGroup,
    StateMonitor,
    Synapses,
    defaultclock,
    ms,
    run,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete
from nml_helpers import needs_jneuroml

import brian2tools.nmlexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.baseexport import UnsupportedFeatureError


def _model(plastic: bool, record_subexpression: bool = False):
    start_scope()
    defaultclock.dt = 0.1 * ms
    inputs = SpikeGeneratorGroup(3, [0, 1, 2, 0, 1], [1, 1, 3.05, 6, 12] * ms, name="inputs")
    cells = NeuronGroup(2, """dv/dt = (ge - v)/(10*ms) : 1
                              dge/dt = -ge/(5*ms) : 1""", method="euler", name="cells")
    if plastic:
        synapses = Synapses(inputs, cells, """w : 1
                               dapre/dt = -apre/(10*ms) : 1 (event-driven)
                               gain = 0.5 + apre : 1
                               w_eff = w*gain : 1""",
                            on_pre="""apre += 0.25
                                      ge_post += w_eff""", delay=1 * ms, name="synapses")
    else:
        synapses = Synapses(inputs, cells, """w : 1
                               w_eff = 2*w*scale : 1""",
                            on_pre="v_post += w_eff", delay=1 * ms,
                            namespace={"scale": 0.75}, name="synapses")
    synapses.connect()
    synapses.w = "0.1 + 0.05*i + 0.02*j"
    variables = ["v", "ge"]
    state = StateMonitor(cells, variables, record=True, name="state")
    if record_subexpression:  # (Brian's run() collects the objects of this frame)
        synaptic_state = StateMonitor(synapses, "w_eff", record=0, name="synaptic_state")
        assert synaptic_state.source is synapses
    run(20 * ms)
    return {name: np.array(getattr(state, name)) for name in variables}


@needs_jneuroml
@pytest.mark.parametrize("plastic", [False, True], ids=["static", "plastic"])
def test_synaptic_subexpressions_give_brians_traces(tmp_path, plastic):
    brian = _model(plastic)
    reinit_and_delete()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), simulate="jneuroml")
    try:
        exported = _model(plastic)
    finally:
        reinit_and_delete()
        set_device("runtime")
    text = (tmp_path / "model.xml").read_text()
    assert "w_eff" not in text  # written out, not a variable of its own
    changed = "ge" if plastic else "v"
    assert np.ptp(brian[changed]) > 0.05  # the synapses did something
    # a delay of at least one step: plastic synapses run on_pre in Brian's step too
    expected = brian
    for name, values in expected.items():
        span = max(np.ptp(values), 1e-3)
        # every sample; jNeuroML writes ~7 digits
        assert np.max(np.abs(exported[name] - values)) <= 1e-6 * span, name


def test_recording_a_synaptic_subexpression_is_refused_by_name(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    try:
        with pytest.raises(UnsupportedFeatureError,
                           match="synaptic_state.*synaptic subexpression 'w_eff' of 'synapses'"):
            _model(False, record_subexpression=True)
    finally:
        reinit_and_delete()
        set_device("runtime")
    assert not (tmp_path / "model.xml").exists()


def test_summed_variables_stay_and_use_the_subexpressions_code():
    from brian2tools.nmlexport.synaptic_subexpressions import inline_synaptic_subexpressions

    synapses = {"name": "S", "pathways": [{"name": "pre", "code": "h += 1"}], "equations": [
        {"name": "g", "type": "differential equation", "expr": "-g/tau", "flags": []},
        {"name": "g_eff", "type": "subexpression", "expr": "w*g", "flags": []},
        {"name": "g_syn_post", "type": "subexpression", "expr": "g_eff", "flags": ["summed"]}]}
    description = {"synapses": [synapses], "statemonitors": []}
    out = inline_synaptic_subexpressions(description)
    assert [(eq["name"], eq["expr"]) for eq in out["synapses"][0]["equations"]] == [
        ("g", "-g/tau"), ("g_syn_post", "(w*g)")]
    # the description it was given is unchanged
    assert [eq["name"] for eq in synapses["equations"]] == ["g", "g_eff", "g_syn_post"]
