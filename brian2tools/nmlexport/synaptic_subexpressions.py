"""
Subexpressions of ``Synapses``, written out where they are used.

Brian evaluates a synaptic subexpression (``w_eff = 2*w : 1`` in the
equations of a ``Synapses``) wherever the code uses it, from the values of
that moment. A LEMS synapse has no per-synapse derived value that every
pathway and equation could read in Brian's order, so the export does what
Brian's code generation does: it writes the subexpression's code,
parenthesised, in place of its name, in the pathways (``on_pre``,
``on_post``) and in the other synaptic equations (clock-driven, summed,
other subexpressions). What remains is the same model without
subexpressions, which the synapse modules export.

A ``StateMonitor`` that records a synaptic subexpression is refused by name:
the synapse components expose their state, not values computed from it.
"""

from __future__ import annotations

from collections.abc import Mapping

from brian2.utils.logger import get_logger
from brian2.utils.stringtools import word_substitute

from brian2tools.baseexport import UnsupportedFeatureError

__all__ = ["inline_synaptic_subexpressions"]

logger = get_logger(__name__)


def _subexpressions(synapses: Mapping) -> dict[str, str]:
    """Name -> code of the synapses' subexpressions, each written out in terms of none."""
    # (a summed variable is a subexpression too, computed for the post-synaptic cells)
    found = {eq["name"]: eq["expr"] for eq in synapses.get("equations") or ()
             if eq.get("type") == "subexpression" and "summed" not in (eq.get("flags") or ())}
    replaced = {name: f"({code})" for name, code in found.items()}
    # subexpressions may use each other: substitute until none is left (a
    # cycle would be refused by Brian before the export)
    for _ in range(len(found)):
        changed = False
        for name, code in replaced.items():
            new = word_substitute(code, {other: text for other, text in replaced.items()
                                         if other != name})
            if new != code:
                replaced[name], changed = new, True
        if not changed:
            break
    return replaced


def inline_synaptic_subexpressions(description: Mapping) -> Mapping:
    """
    The description with the subexpressions of its Synapses written out.

    Parameters
    ----------
    description : mapping
        A model description (see :doc:`/export_format`); not changed.

    Returns
    -------
    mapping
        ``description`` itself when no Synapses has a subexpression, else a
        copy in which each Synapses' pathways and equations use the code of
        its subexpressions instead of their names, and the subexpressions
        are gone.

    Raises
    ------
    UnsupportedFeatureError
        If a StateMonitor records a synaptic subexpression.

    Examples
    --------
    >>> synapses = {'name': 'S', 'equations': [
    ...     {'name': 'w', 'type': 'parameter', 'expr': None},
    ...     {'name': 'w_eff', 'type': 'subexpression', 'expr': '2*w'}],
    ...     'pathways': [{'name': 'pre', 'code': 'v_post += w_eff'}]}
    >>> out = inline_synaptic_subexpressions({'synapses': [synapses]})
    >>> out['synapses'][0]['pathways'][0]['code']
    'v_post += (2*w)'
    >>> [eq['name'] for eq in out['synapses'][0]['equations']]
    ['w']
    """
    written = {synapses["name"]: _subexpressions(synapses)
               for synapses in description.get("synapses") or ()}
    if not any(written.values()):
        return description
    for monitor in description.get("statemonitors") or ():
        source = (monitor.get("source") or {}).get("group")
        recorded = set(monitor.get("variables") or ()) & set(written.get(source) or ())
        if recorded:
            raise UnsupportedFeatureError(
                monitor["name"], f"the recording of the synaptic subexpression "
                f"'{sorted(recorded)[0]}' of '{source}'",
                "The synapses' state can be recorded; record the variables it is "
                "computed from.")
    description = dict(description)
    description["synapses"] = [dict(s) for s in description["synapses"]]  # arrays shared
    for synapses in description["synapses"]:
        replaced = written[synapses["name"]]
        if not replaced:
            continue
        synapses["pathways"] = [
            {**pathway, "code": word_substitute(pathway["code"], replaced)}
            if pathway.get("code") else pathway for pathway in synapses.get("pathways") or ()]
        synapses["equations"] = [
            {**eq, "expr": word_substitute(eq["expr"], replaced)} if eq.get("expr") else eq
            for eq in synapses.get("equations") or () if eq["name"] not in replaced]
        logger.debug(f"'{synapses['name']}': subexpressions {sorted(replaced)} written out")
    return description
