"""Checking symbolic gradients against finite differences: numeric_grad and verify_grad.

Theano 1.0's ``theano.gradient.numeric_grad``/``verify_grad``, with one change: derivatives
are estimated by central differences ``(f(x + eps) - f(x - eps)) / (2 eps)`` instead of
Theano's one-sided ones. Their error shrinks with ``eps**2`` instead of ``eps``, so the same
step sizes and tolerances (Theano's, per dtype) catch wrong gradients with fewer false alarms,
at the price of twice the function evaluations.

Graphs are evaluated with :func:`tgraph.graph.evaluate` (the reference interpreter), which
lives below the compiler; ``verify_grad``'s ``mode`` is accepted for compatibility and unused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tgraph.gradient import GradientError, grad
from tgraph.graph.basic import Variable
from tgraph.graph.evaluate import evaluate
from tgraph.shared import shared
from tgraph.tensor.type import TensorType


class numeric_grad:  # Theano's lowercase class name
    """The finite-difference gradient of a scalar function ``f(*pt)`` at ``pt``.

    ``pt`` is an array or a list of arrays; the result is in ``self.gf`` (same structure).
    The arithmetic runs in the most precise float dtype among the inputs; ``eps`` defaults
    to the largest step among the inputs' dtypes (``type_eps``, Theano 1.0's values).
    """

    type_eps = {
        "float64": 1e-7,
        "float32": 3e-4,
        "float16": 1e-1,
        np.dtype("float64"): 1e-7,
        np.dtype("float32"): 3e-4,
        np.dtype("float16"): 1e-1,
    }

    def __init__(self, f: Callable, pt: Any, eps: float | None = None,
                 out_type: str | None = None):
        packed = not isinstance(pt, list | tuple)
        points = [np.array(p) for p in ([pt] if packed else pt)]
        for i, p in enumerate(points):
            if str(p.dtype) not in self.type_eps:
                raise TypeError(
                    f"numeric_grad: input {i} has dtype {p.dtype}; finite differences need "
                    "float16, float32 or float64 inputs"
                )
        dtypes = [str(p.dtype) for p in points]
        working = min(dtypes, key=lambda d: self.type_eps[d])
        if eps is None:
            eps = max(self.type_eps[d] for d in dtypes)
        out_dtype = out_type if out_type is not None and out_type.startswith("complex") \
            else working
        # One flat buffer; each input is a view into it, so one element moves at a time.
        sizes = [p.size for p in points]
        x = np.empty(sum(sizes), dtype=working)
        gx = np.empty(sum(sizes), dtype=out_dtype)
        views, self.gf = [], []
        pos = 0
        for p, n in zip(points, sizes):
            views.append(x[pos:pos + n].reshape(p.shape))
            self.gf.append(gx[pos:pos + n].reshape(p.shape))
            views[-1][...] = p
            pos += n
        x0 = x.copy()
        for i in range(x.size):
            x[:] = x0
            x[i] = x0[i] + eps
            f_plus = f(*views)
            x[i] = x0[i] - eps
            f_minus = f(*views)
            gx[i] = (np.asarray(f_plus) - np.asarray(f_minus)) / (2 * eps)
        x[:] = x0
        if packed:
            self.gf = self.gf[0]

    @staticmethod
    def abs_rel_err(a, b) -> tuple[np.ndarray, np.ndarray]:
        """``(|a - b|, |a - b| / max(|a| + |b|, 1e-8))``, elementwise."""
        abs_err = np.abs(np.asarray(a) - np.asarray(b))
        # The floor is an array so it is not downcast to float16 (where 1e-8 is 0).
        rel_err = abs_err / np.maximum(np.abs(a) + np.abs(b), np.asarray([1e-8]))
        return np.asarray(abs_err), np.asarray(rel_err)

    def abs_rel_errors(self, g_pt: Sequence[np.ndarray]) -> list:
        """The (abs, rel) errors of each analytic gradient in ``g_pt`` against ``self.gf``."""
        gf = self.gf if isinstance(self.gf, list) else [self.gf]
        if len(g_pt) != len(gf):
            raise ValueError(f"numeric_grad: expected {len(gf)} gradients, got {len(g_pt)}")
        errs = []
        for i, (a, b) in enumerate(zip(g_pt, gf)):
            if np.shape(a) != np.shape(b):
                raise ValueError(f"numeric_grad: gradient {i} has shape {np.shape(a)}, "
                                 f"expected {np.shape(b)}")
            errs.append(self.abs_rel_err(a, b))
        return errs

    def max_err(self, g_pt: Sequence[np.ndarray], abs_tol: float, rel_tol: float):
        """The worst violation: ``(input index, flat position, abs err, rel err)``.

        An element fails only when both its absolute and relative errors exceed their
        tolerances; the position maximizes ``min(abs_err / abs_tol, rel_err / rel_tol)``.
        """
        best = None
        for arg, (abs_err, rel_err) in enumerate(self.abs_rel_errors(g_pt)):
            if not (np.all(np.isfinite(abs_err)) and np.all(np.isfinite(rel_err))):
                raise ValueError(f"numeric_grad: the error on input {arg} is not finite (the "
                                 "analytic or numeric gradient has NaN or inf)")
            if abs_err.size == 0:
                continue
            scaled = np.minimum(abs_err / abs_tol, rel_err / rel_tol).reshape(-1)
            pos = int(scaled.argmax())
            cand = (scaled[pos], arg, pos, abs_err.reshape(-1)[pos], rel_err.reshape(-1)[pos])
            if best is None or cand[0] > best[0]:
                best = cand
        if best is None:
            return 0, 0, 0.0, 0.0
        return best[1], best[2], best[3], best[4]


_TYPE_TOL = {"float16": 5e-2, "float32": 1e-2, "float64": 1e-4}


def verify_grad(fun: Callable, pt: Sequence[Any], n_tests: int = 2, rng: Any = None,
                eps: float | None = None, out_type: str | None = None,
                abs_tol: float | None = None, rel_tol: float | None = None, mode: Any = None,
                cast_to_output_type: bool = False, no_debug_ref: bool = True) -> None:
    """Check ``grad`` of ``fun`` at ``pt`` against finite differences; raise on mismatch.

    ``fun`` takes symbolic tensors (one per array in ``pt``, float dtypes) and returns one
    tensor ``o``. The test compares the symbolic and numeric gradients of ``sum(u * o)`` for a
    random projection ``u`` drawn from ``rng`` (a ``numpy.random.RandomState`` or
    ``Generator``), ``n_tests`` times. Raises :class:`GradientError` (also
    ``verify_grad.E_grad``) naming the input, the element and both values. Tolerances default
    to Theano's per dtype (float64 1e-4, float32 1e-2, float16 5e-2).
    """
    if not isinstance(pt, list | tuple):
        raise TypeError(f"verify_grad: pt must be a list of arrays, got {type(pt).__name__}")
    pt = [np.array(p) for p in pt]
    for i, p in enumerate(pt):
        if str(p.dtype) not in _TYPE_TOL:
            raise TypeError(f"verify_grad works only with float inputs, but input {i} has "
                            f"dtype {p.dtype}")
    if abs_tol is None:
        abs_tol = max(_TYPE_TOL[str(p.dtype)] for p in pt)
    if rel_tol is None:
        rel_tol = max(_TYPE_TOL[str(p.dtype)] for p in pt)
    if rng is None:
        raise TypeError("verify_grad: rng must be a numpy.random.RandomState or Generator "
                        "(the random projection of the output is drawn from it)")

    try:
        _check_against_finite_differences(fun, pt, n_tests, rng, eps, out_type, abs_tol,
                                          rel_tol, cast_to_output_type)
    except Exception as exc:
        _add_context(exc, f"verify_grad: inputs {pt!r}, eps={eps}, out_type={out_type}")
        raise


def _check_against_finite_differences(fun, pt, n_tests, rng, eps, out_type, abs_tol, rel_tol,
                                      cast_to_output_type) -> None:
    """The body of verify_grad once its arguments are checked."""
    inputs = [TensorType(p.dtype, [s == 1 for s in p.shape])(f"input {i}")
              for i, p in enumerate(pt)]
    output = fun(*inputs)
    if isinstance(output, list | tuple):
        raise NotImplementedError("verify_grad: fun must return one variable (several "
                                  "outputs are not supported)")
    if not isinstance(output, Variable):
        raise TypeError(f"verify_grad: fun must return a symbolic variable, got "
                        f"{type(output).__name__}")
    out_value = evaluate([output], dict(zip(inputs, (p.copy() for p in pt))))[0]

    def projection():
        shape = np.shape(out_value)
        draw = rng.rand(*shape) if hasattr(rng, "rand") else rng.random(shape)
        plain = np.asarray(draw, dtype="float64") + 0.5
        if cast_to_output_type and output.dtype == "float32":
            return plain.astype("float32")
        return plain

    u = shared(projection(), borrow=True, name="random_projection")
    cost = (u * output).sum()
    symbolic = grad(cost, inputs, disconnected_inputs="ignore")

    def cost_fn(*values):
        return evaluate([cost], dict(zip(inputs, values)))[0]

    for test_num in range(n_tests):
        num = numeric_grad(cost_fn, [p.copy() for p in pt], eps, out_type)
        analytic = evaluate(symbolic, dict(zip(inputs, (p.copy() for p in pt))))
        arg, pos, abs_err, rel_err = num.max_err(analytic, abs_tol, rel_tol)
        if abs_err > abs_tol and rel_err > rel_tol:
            a = np.asarray(analytic[arg])
            raise GradientError(arg, pos, a.shape, a.reshape(-1)[pos],
                                np.asarray(num.gf[arg]).reshape(-1)[pos], abs_err, rel_err,
                                abs_tol, rel_tol, arg_name=inputs[arg].name)
        if test_num < n_tests - 1:
            u.set_value(projection(), borrow=True)


def _add_context(exc: Exception, note: str) -> None:
    """Attach where an error happened without changing its message (a note, else args)."""
    if isinstance(exc, GradientError) or not hasattr(exc, "add_note"):
        exc.args = (*exc.args, note)
    else:
        exc.add_note(note)


verify_grad.E_grad = GradientError

__all__ = ["GradientError", "numeric_grad", "verify_grad"]
