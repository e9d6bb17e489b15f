"""theano.printing: debugprint, pp, Print and pydotprint, served by tgraph.printing."""

from tgraph.printing import *  # noqa: F403
from tgraph.printing import __all__, __getattr__  # noqa: F401
