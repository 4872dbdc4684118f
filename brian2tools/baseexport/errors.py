"""
The errors of the exporters.

Exporters never drop part of a model silently: what the collection layer
cannot describe faithfully is refused, at collection time, with an
`UnsupportedFeatureError` that names the object and the feature. An engine
that fails to simulate an export (when a device is asked to) raises a
`SimulationError`. Both can be pickled, so that a refusal raised in a
``multiprocessing`` worker reaches the parent process intact.
"""

from __future__ import annotations

__all__ = ["UnsupportedFeatureError", "SimulationError"]


class UnsupportedFeatureError(NotImplementedError):
    """
    A model uses a feature that cannot be described faithfully for export.

    Parameters
    ----------
    object_name : str
        The Brian name of the object that uses the feature (e.g.
        ``'neurongroup'``), or a description such as ``'network'``.
    feature : str
        What the object uses that cannot be exported, e.g. ``"the function
        'stimulus' (a TimedArray or other user-defined function)"``.
    hint : str, optional
        What the user can do instead.

    Attributes
    ----------
    object_name : str
        As given.
    feature : str
        As given.

    Examples
    --------
    >>> err = UnsupportedFeatureError('neurongroup', 'run_regularly operations')
    >>> print(err)
    Cannot export 'neurongroup': it uses run_regularly operations, which the exporter cannot describe.
    >>> isinstance(err, NotImplementedError)
    True
    """

    def __init__(self, object_name: str, feature: str, hint: str | None = None):
        self.object_name = object_name
        self.feature = feature
        self.hint = hint
        message = (
            f"Cannot export '{object_name}': it uses {feature}, which the exporter cannot describe."
        )
        if hint:
            message += f" {hint}"
        super().__init__(message)

    def __reduce__(self):
        # the exception's args are the message only: rebuild from the parts
        return (type(self), (self.object_name, self.feature, self.hint))


class SimulationError(RuntimeError):
    """
    An engine could not simulate an exported model.

    The base of the engines' errors (e.g.
    `brian2tools.nmlexport.engines.EngineError`), so that code running
    scripts under an export device can tell a failed simulation from a
    failure of the script itself.

    Examples
    --------
    >>> isinstance(SimulationError('jNeuroML failed'), RuntimeError)
    True
    """
