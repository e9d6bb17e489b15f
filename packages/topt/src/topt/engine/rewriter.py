"""The rewrite framework in one namespace (Theano 1.0's ``theano.gof.opt`` names).

The pieces live in small modules: :mod:`topt.engine.base` (global and local rewrites,
decorators, failure policy, stack traces), :mod:`topt.engine.local` (groups, OpSub,
OpRemove, PatternSub), :mod:`topt.engine.navigator` (TopoOptimizer, EquilibriumOptimizer)
and :mod:`topt.engine.merge` (MergeFeature, MergeOptimizer). Import from here.
"""

from topt.engine.base import (
    FromFunctionLocalOptimizer,
    FromFunctionOptimizer,
    GlobalOptimizer,
    LocalOptimizer,
    Optimizer,
    RewriteWarning,
    SeqOptimizer,
    add_destroy_handler,
    call_transform,
    check_chain,
    copy_stack_trace,
    handle_rewrite_error,
    inplace_optimizer,
    local_optimizer,
    optimizer,
    rewrite_name,
)
from topt.engine.local import LocalOptGroup, OpRemove, OpSub, PatternSub, TrackIndex
from topt.engine.merge import (
    MergeFeature,
    MergeOptimizer,
    is_same_graph_with_merge,
    merge_optimizer,
    pre_constant_merge,
)
from topt.engine.navigator import (
    ChangeTracker,
    EquilibriumLimitError,
    EquilibriumOptimizer,
    NavigatorOptimizer,
    OpKeyOptimizer,
    TopoOptimizer,
    Updater,
    in2out,
    out2in,
    pre_greedy_local_optimizer,
)
from topt.engine.profile import RewriteProfile, print_profile

__all__ = [
    "ChangeTracker",
    "EquilibriumLimitError",
    "EquilibriumOptimizer",
    "FromFunctionLocalOptimizer",
    "FromFunctionOptimizer",
    "GlobalOptimizer",
    "LocalOptGroup",
    "LocalOptimizer",
    "MergeFeature",
    "MergeOptimizer",
    "NavigatorOptimizer",
    "OpKeyOptimizer",
    "OpRemove",
    "OpSub",
    "Optimizer",
    "PatternSub",
    "RewriteProfile",
    "RewriteWarning",
    "SeqOptimizer",
    "TopoOptimizer",
    "TrackIndex",
    "Updater",
    "add_destroy_handler",
    "call_transform",
    "check_chain",
    "copy_stack_trace",
    "handle_rewrite_error",
    "in2out",
    "inplace_optimizer",
    "is_same_graph_with_merge",
    "local_optimizer",
    "merge_optimizer",
    "optimizer",
    "out2in",
    "pre_constant_merge",
    "pre_greedy_local_optimizer",
    "print_profile",
    "rewrite_name",
]
