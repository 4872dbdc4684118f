"""
The export devices, registered with Brian when ``brian2tools`` is imported.

``import brian2tools`` (or ``from brian2tools import *``) makes the devices
``'exporter'``, ``'markdown'`` and ``'neuroml2'`` known to Brian's
``set_device``, as brian2tools 0.3 did, without loading the exporters: each
name is first held by a `LazyDevice`, a stand-in that imports its
subpackage (:mod:`brian2tools.baseexport`, :mod:`brian2tools.mdexport` or
:mod:`brian2tools.nmlexport`) only when the device is used. Importing the
subpackage registers the real device under the same name, replacing the
stand-in; ``set_device`` with the stand-in's name then makes the real device
the active one, so ``device`` and ``get_device()`` are the real device from
the start.

Why a stand-in and not the real devices: the exporters need Jinja2
templates, the Markdown package and pyLEMS, which take longer to import
than the rest of brian2tools, and most scripts only plot.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from brian2.devices.device import Device, all_devices
from brian2.utils.logger import get_logger

__all__ = ["LazyDevice", "EXPORT_DEVICES", "register_export_devices"]

logger = get_logger(__name__)

#: Brian device name -> the subpackage whose import registers that device
EXPORT_DEVICES = {
    "exporter": "brian2tools.baseexport",
    "markdown": "brian2tools.mdexport",
    "neuroml2": "brian2tools.nmlexport",
}


class LazyDevice(Device):
    """
    Stand-in for a device whose module is imported on first use.

    It sits in Brian's ``all_devices`` under the device's name until its
    module is imported, which puts the real device there. When Brian
    activates it (``set_device(name, ...)``), it imports the module and
    makes the real device the active one, with the same options. Every
    other use (an attribute, a method such as ``build``) is passed on to the
    real device, importing it if needed. ``reinit()`` (called for every
    registered device by ``reinit_devices``) imports nothing: a device that
    was never loaded has nothing to forget.

    Parameters
    ----------
    name : str
        The device's name in ``all_devices``.
    module : str
        The module whose import registers the real device under ``name``.

    Examples
    --------
    >>> from brian2.devices.device import all_devices
    >>> import brian2tools
    >>> stand_in = all_devices['markdown']
    >>> isinstance(stand_in, LazyDevice) or type(stand_in).__name__ == 'MarkdownExporter'
    True
    """

    # Device.__init__ is not called on purpose: attributes such as
    # defaultclock must come from the real device, through __getattr__.
    def __init__(self, name: str, module: str) -> None:  # noqa: B027
        self.__dict__["_lazy_name"] = name
        self.__dict__["_lazy_module"] = module

    def __repr__(self) -> str:
        state = "loaded" if self._loaded() is not None else "not loaded yet"
        return f"<LazyDevice {self._lazy_name!r} from {self._lazy_module} ({state})>"

    def _loaded(self) -> Device | None:
        """The real device if its module has been imported, else ``None``."""
        if self._lazy_module not in sys.modules:
            return None
        candidate = all_devices.get(self._lazy_name)
        return None if candidate is None or isinstance(candidate, LazyDevice) else candidate

    def resolve(self) -> Device:
        """
        Import the device's module and return the real device.

        Returns
        -------
        brian2.devices.device.Device
            The device the module registered under the stand-in's name.

        Raises
        ------
        RuntimeError
            If the module does not register a device under that name.

        Examples
        --------
        >>> from brian2.devices.device import all_devices
        >>> LazyDevice('exporter', 'brian2tools.baseexport').resolve() is all_devices['exporter']
        True
        """
        real = self._loaded()
        if real is None:
            importlib.import_module(self._lazy_module)
            real = self._loaded()
        if real is None:
            raise RuntimeError(
                f"Importing {self._lazy_module} did not register the Brian device "
                f"{self._lazy_name!r}."
            )
        return real

    def activate(self, build_on_run: bool = True, **kwargs: Any) -> None:
        """
        Load the real device and make it Brian's active device.

        Brian's ``set_device`` made this stand-in the active device and then
        calls this method; it replaces itself by the real device, which is
        activated with the same options.

        Parameters
        ----------
        build_on_run : bool, optional
            Whether each ``run()`` builds (see ``set_device``).
        **kwargs
            The device's build options.
        """
        real = self.resolve()
        device_module = sys.modules["brian2.devices.device"]
        # set_device reads the module's active_device again after activate()
        # (to copy the previous dt), so the swap is complete for Brian.
        if device_module.active_device is self:
            device_module.active_device = real
        real.activate(build_on_run=build_on_run, **kwargs)

    def reinit(self) -> None:
        """Forget the state of the real device, if it was ever loaded (imports nothing)."""
        real = self._loaded()
        if real is not None:
            real.reinit()

    def __getattr__(self, name: str) -> Any:
        # only called for what the stand-in itself does not have
        if name.startswith("__") or name.startswith("_lazy"):
            raise AttributeError(name)
        return getattr(self.resolve(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.resolve(), name, value)


def _forwarding(name: str):
    def forward(self, *args, **kwargs):
        return getattr(self.resolve(), name)(*args, **kwargs)

    forward.__name__ = name
    forward.__doc__ = f"Call ``{name}`` of the real device (loading it if needed)."
    return forward


# The methods LazyDevice inherits from Device would otherwise act on the
# stand-in itself (e.g. build() doing nothing): pass them on.
for _name, _value in list(vars(Device).items()):
    if callable(_value) and not _name.startswith("__") and _name not in vars(LazyDevice):
        setattr(LazyDevice, _name, _forwarding(_name))
del _name, _value


def register_export_devices() -> None:
    """
    Make the export devices known to Brian's ``set_device`` without loading them.

    Names that already have a device (the real one, once its module is
    imported) are left alone, so calling this again loses no state.

    Examples
    --------
    >>> from brian2.devices.device import all_devices
    >>> register_export_devices()
    >>> {'exporter', 'markdown', 'neuroml2'} <= set(all_devices)
    True
    """
    for name, module in EXPORT_DEVICES.items():
        if name not in all_devices:
            all_devices[name] = LazyDevice(name, module)
