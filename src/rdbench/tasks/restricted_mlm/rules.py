"""The rules of restricted_mlm: no division or exponentiation in the model, checked twice.

1. `check_source(text)` — a static check of `model.py` (the whole file), by its syntax tree:
   no `/`, `//`, `%`, `**` operators; no name, attribute or string that names a function
   hiding them (exp, softmax, sigmoid, tanh, sqrt, layer_norm, mean, ...); imports only
   from `ALLOWED_IMPORTS`; no private torch internals, no monkey-patching, no eval/exec.
2. `RuntimeRules()` — a context manager active while the scorer runs the forward pass: a
   `TorchDispatchMode` that lets through only the aten operations in `ALLOWED_OPS` (every
   torch function, however it is reached, ends in aten operations), and a
   `TorchFunctionMode` that blocks leaving torch for Python or numpy (`.item()`,
   `.tolist()`, `.numpy()`), where division could happen unseen.

The agent gets this file in its workspace (`rules.py`, `python rules.py model.py`); the
scorer uses its own copy. Needs torch only for `RuntimeRules`.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass

#: Top-level modules model.py may import.
ALLOWED_IMPORTS = frozenset(
    {"torch", "math", "typing", "dataclasses", "functools", "collections", "itertools",
     "__future__"}
)

#: Names that hide division or exponentiation (or a normalization, which divides).
FORBIDDEN_NAMES = frozenset(
    {
        # exponentials, logarithms and their relatives
        "exp", "exp_", "exp2", "expm1", "log", "log_", "log2", "log10", "log1p", "logsumexp",
        "logaddexp", "logaddexp2", "logit", "xlogy", "sinh", "cosh", "erf", "erfc", "erfinv",
        "softmax", "log_softmax", "softmin", "gumbel_softmax", "Softmax", "LogSoftmax",
        "Softmin", "Softmax2d", "sigmoid", "sigmoid_", "logsigmoid", "LogSigmoid", "Sigmoid",
        "tanh", "tanh_", "Tanh", "softplus", "Softplus", "softsign", "Softsign", "tanhshrink",
        "Tanhshrink", "gelu", "GELU", "silu", "SiLU", "elu", "ELU", "selu", "SELU", "celu",
        "CELU", "mish", "Mish", "hardsigmoid", "Hardsigmoid", "hardswish", "Hardswish",
        "glu", "GLU", "scaled_dot_product_attention", "MultiheadAttention", "Transformer",
        "TransformerEncoder", "TransformerEncoderLayer", "TransformerDecoderLayer",
        # division and powers
        "div", "div_", "divide", "divide_", "true_divide", "true_divide_", "floor_divide",
        "floor_divide_", "remainder", "fmod", "reciprocal", "reciprocal_", "pow", "pow_",
        "float_power", "square", "square_", "sqrt", "sqrt_", "rsqrt", "rsqrt_", "truediv",
        "floordiv", "__truediv__", "__rtruediv__", "__itruediv__", "__floordiv__",
        "__rfloordiv__", "__ifloordiv__", "__pow__", "__rpow__", "__ipow__", "__mod__",
        "__rmod__", "__div__", "__rdiv__", "__idiv__",
        # normalizations and averages (they divide)
        "layer_norm", "LayerNorm", "batch_norm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
        "group_norm", "GroupNorm", "instance_norm", "InstanceNorm1d", "InstanceNorm2d",
        "rms_norm", "RMSNorm", "local_response_norm", "LocalResponseNorm", "normalize",
        "norm", "vector_norm", "matrix_norm", "mean", "nanmean", "var", "std", "var_mean",
        "std_mean", "avg_pool1d", "avg_pool2d", "AvgPool1d", "AvgPool2d", "adaptive_avg_pool1d",
        "AdaptiveAvgPool1d", "cosine_similarity", "CosineSimilarity", "lp_pool1d",
        # escape hatches around the runtime check
        "eval", "exec", "compile", "__import__", "getattr", "setattr", "delattr", "globals",
        "locals", "vars", "open", "breakpoint", "__torch_function__", "__torch_dispatch__",
        "__class__", "__dict__", "__globals__", "__builtins__", "__subclasses__", "__bases__",
        "__mro__", "__code__", "__getattribute__", "__loader__", "__spec__", "numpy", "item",
        "tolist", "cpp_extension", "load_inline", "jit", "library", "ctypes", "os", "sys",
        "subprocess", "builtins", "importlib", "stdin", "stdout", "stderr", "modules",
    }
)
_FORBIDDEN_OPERATORS = {
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Pow: "**",
    ast.Mod: "%",
}

#: The aten operations a forward pass may use (by overload packet name).
ALLOWED_OPS = frozenset(
    {
        # creating, copying and converting tensors
        "arange", "ones", "zeros", "full", "empty", "empty_like", "ones_like", "zeros_like",
        "full_like", "new_zeros", "new_ones", "new_full", "new_empty", "scalar_tensor",
        "lift_fresh", "lift_fresh_copy", "clone", "copy_", "_to_copy", "detach", "alias",
        "fill_", "zero_", "_local_scalar_dense",
        # shapes and indexing
        "view", "_unsafe_view", "reshape", "_reshape_alias", "expand", "permute", "transpose",
        "t", "unsqueeze", "squeeze", "slice", "select", "narrow", "cat", "stack", "split",
        "split_with_sizes", "unbind", "chunk", "as_strided", "index", "_unsafe_index",
        "index_select", "gather", "scatter", "scatter_add", "index_add", "index_put",
        "index_put_", "repeat", "roll", "flip", "tril", "triu", "constant_pad_nd",
        "reflection_pad1d", "replication_pad1d", "unfold", "diagonal", "embedding",
        "masked_fill", "masked_fill_", "where",
        # + - * and linear maps
        "add", "add_", "sub", "sub_", "rsub", "mul", "mul_", "neg", "abs", "sign", "addmm",
        "addcmul", "mm", "bmm", "baddbmm", "addbmm", "dot", "mv", "linear", "convolution",
        "_convolution", "cumsum", "sum", "lerp",
        # comparisons, max and min, piecewise-linear activations
        "max", "min", "amax", "amin", "maximum", "minimum", "argmax", "argmin", "topk",
        "sort", "clamp", "clamp_", "clamp_min", "clamp_max", "relu", "relu_", "leaky_relu",
        "leaky_relu_", "hardtanh", "hardtanh_", "threshold", "_prelu_kernel", "prelu",
        "max_pool1d", "max_pool1d_with_indices", "max_pool2d_with_indices", "eq", "ne", "lt",
        "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "bitwise_and",
        "bitwise_or", "bitwise_not", "any", "all",
    }
)


@dataclass(frozen=True)
class Violation:
    """One broken rule: the line (in model.py) and what is wrong."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"model.py:{self.line}: {self.message}"


def check_source(source: str) -> list[Violation]:
    """Return every violation of the static rules in the source of model.py (empty if none)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as ex:
        return [Violation(ex.lineno or 0, f"syntax error: {ex.msg}")]
    found: list[Violation] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _FORBIDDEN_OPERATORS:
            symbol = _FORBIDDEN_OPERATORS[type(node.op)]
            found.append(Violation(line, f"operator {symbol} is forbidden"))
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            found.append(Violation(line, f"{node.id} is forbidden"))
        elif isinstance(node, ast.Attribute):
            found.extend(_check_attribute(node))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in FORBIDDEN_NAMES:
                message = f"the string {node.value!r} names a forbidden function"
                found.append(Violation(line, message))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                found.extend(_check_import(alias.name, line))
                if alias.asname in FORBIDDEN_NAMES:
                    found.append(Violation(line, f"{alias.asname} is forbidden"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append(Violation(line, "relative imports are not allowed in model.py"))
            found.extend(_check_import(node.module or "", line))
            for alias in node.names:
                for name in (alias.name, alias.asname):
                    if name in FORBIDDEN_NAMES or (name or "").startswith("_"):
                        found.append(Violation(line, f"importing {name} is forbidden"))
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                found.extend(_check_target(target))
    return sorted(set(found), key=lambda v: (v.line, v.message))


def _check_attribute(node: ast.Attribute) -> list[Violation]:
    name = node.attr
    if name in FORBIDDEN_NAMES:
        return [Violation(node.lineno, f"{name} is forbidden")]
    private = name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
    on_self = isinstance(node.value, ast.Name) and node.value.id == "self"
    if private and not on_self:
        return [Violation(node.lineno, f"private attribute {name} (torch internals) is forbidden")]
    return []


def _check_import(module: str, line: int) -> list[Violation]:
    top = module.split(".")[0]
    if top not in ALLOWED_IMPORTS:
        allowed = ", ".join(sorted(ALLOWED_IMPORTS - {"__future__"}))
        return [Violation(line, f"import of {module} is not allowed (allowed: {allowed})")]
    if any(part.startswith("_") for part in module.split(".")[1:]):
        return [Violation(line, f"import of private module {module} is not allowed")]
    return []


def _check_target(target: ast.expr) -> list[Violation]:
    # Assigning to attributes of anything but `self` could patch torch or the scorer.
    if isinstance(target, (ast.Tuple, ast.List)):
        return [v for element in target.elts for v in _check_target(element)]
    if isinstance(target, (ast.Attribute, ast.Subscript)):
        base = target.value
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value
        if not (isinstance(base, ast.Name) and base.id == "self") and isinstance(
            target, ast.Attribute
        ):
            message = "assigning attributes of anything but self is forbidden"
            return [Violation(target.lineno, message)]
    return []


class RuleViolation(RuntimeError):
    """Raised inside the forward pass when the model uses a forbidden operation."""


def runtime_rules():  # -> contextlib.AbstractContextManager (torch imported lazily)
    """Return a context manager that raises RuleViolation on any forbidden torch operation.

    The returned object records the aten operations used (`.ops_seen`) and every forbidden
    operation attempted (`.violations`), even one whose error the model caught.
    """
    import torch
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    blocked_methods = {
        torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.numpy, torch.Tensor.__array__,
        torch.Tensor.data_ptr, torch.Tensor.untyped_storage,
    }

    class _NoEscape(TorchFunctionMode):
        def __init__(self) -> None:
            super().__init__()
            self.violations: list[str] = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func in blocked_methods:
                name = getattr(func, "__name__", str(func))
                self.violations.append(f"Tensor.{name}")
                raise RuleViolation(f"Tensor.{name} is forbidden in the forward pass")
            return func(*args, **(kwargs or {}))

    class _AllowedOpsOnly(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.ops_seen: set[str] = set()
            self.violations: list[str] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = str(func.overloadpacket).removeprefix("aten.")
            if name == "view" and func._overloadname == "dtype":
                # reinterpreting float bits as integers is how bit-hack reciprocals work
                name = "view.dtype"
            if name not in ALLOWED_OPS:
                self.violations.append(name)
                raise RuleViolation(
                    f"operation {name} is forbidden in the forward pass (only +, -, *, "
                    "matmul, max/min/relu-style and data-movement operations are allowed; "
                    "see ALLOWED_OPS in rules.py)"
                )
            self.ops_seen.add(name)
            return func(*args, **(kwargs or {}))

    class _Both:
        def __init__(self) -> None:
            self._function_mode = _NoEscape()
            self._dispatch_mode = _AllowedOpsOnly()

        @property
        def ops_seen(self) -> set[str]:
            return self._dispatch_mode.ops_seen

        @property
        def violations(self) -> list[str]:
            """The forbidden operations attempted (recorded even if the model caught the error)."""
            return self._function_mode.violations + self._dispatch_mode.violations

        def __enter__(self):
            self._function_mode.__enter__()
            self._dispatch_mode.__enter__()
            return self

        def __exit__(self, *exc):
            self._dispatch_mode.__exit__(*exc)
            self._function_mode.__exit__(*exc)
            return False

    return _Both()


def main() -> None:
    """`python rules.py [model.py]`: print the static violations of a model file."""
    path = sys.argv[1] if len(sys.argv) > 1 else "model.py"
    with open(path) as handle:
        violations = check_source(handle.read())
    for violation in violations:
        print(violation)
    print("static check passed" if not violations else f"{len(violations)} violation(s)")
    sys.exit(1 if violations else 0)


if __name__ == "__main__":
    main()
