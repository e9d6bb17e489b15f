"""theano.gradient: symbolic differentiation, served by tgraph."""

from tgraph.gradient import *  # noqa: F403
from tgraph.gradient_checks import *  # noqa: F403
from tgraph.jacobian import *  # noqa: F403
