"""theano.configdefaults: kept because Theano 1.0 code imports ``config`` from here.

In Theano 1.0 this module declared every flag. Here each package declares its own flags
when it is imported (``import theano`` imports them all), so importing this module declares
nothing; it re-exports the configuration and the device param type that lived here.
"""

from theano.configparser import DeviceParam, config

__all__ = ["DeviceParam", "config"]
