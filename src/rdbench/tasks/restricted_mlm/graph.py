"""The forward pass as data: record a model's aten operations once, check them, replay them.

The scorer never runs the agent's Python code where the rules are enforced. Instead:

1. `trace(model, ids)` runs the model once on a batch of *validation* windows under a
   `TorchDispatchMode` that records every aten operation it reaches, with its arguments
   (other operations' results, constants such as the weights, plain numbers), as a `Graph`.
   This happens in a jail that holds no hidden data; whatever the model's Python does
   there (including patching this file) only changes the recorded graph.
2. `check(graph)` lists the graph's forbidden operations: every operation must be in
   `rules.ALLOWED_OPS`; reinterpreting float bits (`view.dtype`) and reading a tensor's
   value into Python (`_local_scalar_dense`: `float(t)`, `int(t)`, `.item()`, `if t:`)
   are rejected, since Python code would act on values the rules cannot see.
3. `replay(graph, ids)` runs the checked graph on new ids, in a separate process that
   imports no agent code. Each call starts from fresh copies of the constants and fills
   `empty` tensors with zeros, so nothing carries over from one batch to the next.

Python control flow is therefore frozen at trace time: a forward pass whose shapes or
branches depend on the input's values records one path, which is what gets replayed.
The agent's `evaluate.py` uses this same module on the validation text.
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

MAGIC = b"RDBGRAPH1\n"
#: Operations the graph may not contain even though `rules.ALLOWED_OPS` lists them.
NOT_REPLAYED = frozenset({"_local_scalar_dense", "_unsafe_index"})
#: Operations whose result is uninitialized memory: zeroed on replay.
UNINITIALIZED = frozenset({"empty", "empty_like", "new_empty"})
MAX_NODES = 200_000
_DTYPES = {
    str(d): d
    for d in (
        torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.uint8, torch.int8,
        torch.int16, torch.int32, torch.int64, torch.bool,
    )
}
_LAYOUTS = {str(torch.strided): torch.strided}
_FORMATS = {
    str(f): f
    for f in (torch.contiguous_format, torch.preserve_format, torch.channels_last)
}


class GraphError(ValueError):
    """The graph is malformed or cannot be replayed (its message is fixed text)."""


@dataclass
class Graph:
    """A recorded forward pass: aten operations over named values.

    Attributes:
        nodes: One dict per operation: `op` ("aten.<name>.<overload>"), `args`, `kwargs`
            (encoded, see `_encode`) and `out` (the names of its tensor results, in order).
        constants: Tensors the pass used but did not compute (weights, buffers, literals).
        input: The name of the input ids.
        output: The name of the returned logits.
    """

    nodes: list[dict[str, Any]] = field(default_factory=list)
    constants: dict[str, torch.Tensor] = field(default_factory=dict)
    input: str = "input"
    output: str = ""

    def to_bytes(self) -> bytes:
        """Return the graph serialized: MAGIC, a length-prefixed JSON header, the constants."""
        header = json.dumps(
            {"nodes": self.nodes, "input": self.input, "output": self.output}
        ).encode()
        buffer = io.BytesIO()
        torch.save(self.constants, buffer)
        return MAGIC + struct.pack("<Q", len(header)) + header + buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Graph:
        """Return the graph in `data` (constants loaded with `weights_only=True`).

        Raises:
            GraphError: `data` is not a well-formed graph.
        """
        if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 8:
            raise GraphError("not a graph")
        (size,) = struct.unpack_from("<Q", data, len(MAGIC))
        start = len(MAGIC) + 8
        try:
            header = json.loads(data[start : start + size])
            constants = torch.load(
                io.BytesIO(data[start + size :]), map_location="cpu", weights_only=True
            )
        except Exception as ex:  # anything malformed in untrusted bytes
            raise GraphError("malformed graph") from ex
        if not isinstance(header, dict) or not isinstance(constants, dict):
            raise GraphError("malformed graph")
        nodes, inp, out = header.get("nodes"), header.get("input"), header.get("output")
        if not isinstance(nodes, list) or len(nodes) > MAX_NODES:
            raise GraphError("malformed graph")
        if not (isinstance(inp, str) and isinstance(out, str)):
            raise GraphError("malformed graph")
        for name, value in constants.items():
            if not isinstance(name, str) or type(value) is not torch.Tensor:
                raise GraphError("malformed graph")
            if value.layout != torch.strided or value.device.type != "cpu":
                raise GraphError("malformed graph")
        for node in nodes:
            if not (
                isinstance(node, dict)
                and isinstance(node.get("op"), str)
                and isinstance(node.get("args"), list)
                and isinstance(node.get("kwargs"), dict)
                and isinstance(node.get("out"), list)
                and all(isinstance(n, (str, type(None))) for n in node["out"])
            ):
                raise GraphError("malformed graph")
        return cls(nodes=nodes, constants=constants, input=inp, output=out)


# -- recording -------------------------------------------------------------------------------
class _Recorder(TorchDispatchMode):
    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Recording never runs under torch.compile; without this, the first recorded op
        # imports torch._dynamo (hundreds of modules, 5-30 s on 2 loaded cores).
        return False

    def __init__(self, graph: Graph, ids: torch.Tensor) -> None:
        super().__init__()
        self.graph = graph
        self.names: dict[int, str] = {id(ids): graph.input}
        self.keep: list[Any] = [ids]  # keeps ids stable while recording
        self.count = 0

    def name_of(self, tensor: torch.Tensor) -> str:
        key = id(tensor)
        if key not in self.names:  # first seen here: a weight, a buffer or a literal
            name = f"c{len(self.graph.constants)}"
            self.graph.constants[name] = tensor.detach().clone()
            self.names[key] = name
            self.keep.append(tensor)
        return self.names[key]

    def encode(self, value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return {"t": self.name_of(value)}
        if isinstance(value, (list, tuple)):
            return {"list": [self.encode(v) for v in value]}
        if isinstance(value, torch.dtype):
            return {"dtype": str(value)}
        if isinstance(value, torch.device):
            return {"device": value.type}
        if isinstance(value, torch.layout):
            return {"layout": str(value)}
        if isinstance(value, torch.memory_format):
            return {"memory_format": str(value)}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise GraphError(f"cannot record an argument of type {type(value).__name__}")

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        node = {
            "op": str(func),
            "args": [self.encode(a) for a in args],
            "kwargs": {k: self.encode(v) for k, v in kwargs.items()},
        }
        result = func(*args, **kwargs)
        outs = []
        for value in _flat(result):
            if isinstance(value, torch.Tensor):
                name = f"v{self.count}"
                self.count += 1
                self.names[id(value)] = name
                self.keep.append(value)
                outs.append(name)
            else:
                outs.append(None)
        node["out"] = outs
        self.graph.nodes.append(node)
        return result


def _flat(result: Any) -> list[Any]:
    return list(result) if isinstance(result, (list, tuple)) else [result]


def trace(model: torch.nn.Module, ids: torch.Tensor) -> Graph:
    """Run `model(ids)` once, recording its aten operations; return the graph.

    Raises:
        GraphError: the model returned something other than a tensor, or passed an
            operation an argument that cannot be recorded.
        Exception: whatever the model raises.
    """
    graph = Graph()
    ids = ids.clone()
    recorder = _Recorder(graph, ids)
    with torch.no_grad(), recorder:
        logits = model(ids)
    if type(logits) is not torch.Tensor:
        raise GraphError("the model must return a tensor")
    graph.output = recorder.name_of(logits)
    return graph


# -- checking and replaying --------------------------------------------------------------------
def op_name(op: str) -> str:
    """Return the rules' name of "aten.<name>.<overload>": `<name>`, or `view.dtype`."""
    parts = op.split(".")
    if len(parts) == 2:
        parts.append("default")
    if len(parts) != 3 or parts[0] != "aten":
        return op
    return "view.dtype" if parts[1:] == ["view", "dtype"] else parts[1]


def check(graph: Graph, allowed_ops: frozenset[str]) -> list[str]:
    """Return the graph's forbidden operations by rule name, in order of first use (or [])."""
    found: list[str] = []
    for node in graph.nodes:
        name = op_name(node["op"])
        if (name not in allowed_ops or name in NOT_REPLAYED) and name not in found:
            found.append(name)
    return found


def _resolve(op: str, allowed_ops: frozenset[str]) -> Any:
    name = op_name(op)
    if name not in allowed_ops or name in NOT_REPLAYED:
        raise GraphError("forbidden operation")
    parts = op.split(".")
    overload = parts[2] if len(parts) == 3 else "default"
    packet = getattr(torch.ops.aten, parts[1])
    if overload not in packet.overloads():
        raise GraphError("unknown operation")
    return getattr(packet, overload)


def _decode(value: Any, env: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        if len(value) != 1:
            raise GraphError("malformed argument")
        ((kind, item),) = value.items()
        table = {"dtype": _DTYPES, "layout": _LAYOUTS, "memory_format": _FORMATS}
        if kind == "t" and isinstance(item, str) and item in env:
            return env[item]
        if kind == "list" and isinstance(item, list):
            return [_decode(v, env) for v in item]
        if kind == "device" and item == "cpu":
            return torch.device("cpu")
        if kind in table and item in table[kind]:
            return table[kind][item]
        raise GraphError("malformed argument")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise GraphError("malformed argument")


def replay(graph: Graph, ids: torch.Tensor, allowed_ops: frozenset[str]) -> torch.Tensor:
    """Run the graph on `ids` (fresh constants, zeroed `empty`s); return its output.

    Raises:
        GraphError: a forbidden or unknown operation, a malformed node, or no tensor output.
        Exception: whatever an operation raises on these inputs.
    """
    funcs = [_resolve(node["op"], allowed_ops) for node in graph.nodes]
    env: dict[str, Any] = {name: t.clone() for name, t in graph.constants.items()}
    env[graph.input] = ids.clone()
    with torch.no_grad():
        for func, node in zip(funcs, graph.nodes):
            args = [_decode(a, env) for a in node["args"]]
            kwargs = {str(k): _decode(v, env) for k, v in node["kwargs"].items()}
            result = func(*args, **kwargs)
            values = _flat(result)
            if op_name(node["op"]) in UNINITIALIZED:
                for value in values:
                    if isinstance(value, torch.Tensor):
                        value.zero_()
            if len(values) != len(node["out"]):
                raise GraphError("the graph does not match its operations")
            for name, value in zip(node["out"], values):
                if name is not None:
                    if not isinstance(value, torch.Tensor):
                        raise GraphError("the graph does not match its operations")
                    env[name] = value
    output = env.get(graph.output)
    if type(output) is not torch.Tensor:
        raise GraphError("the graph has no tensor output")
    return output
