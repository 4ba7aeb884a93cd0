"""A graph of layers: forward in topological order, backward in reverse.

A model written with the functional API (``gn.Model(inputs, outputs)``) and a
layer made of layers (one that defines ``call``) are both a directed acyclic
graph whose nodes are calls of layers (:class:`~glassnet.layers.layer.Node`)
and whose edges are the tensors between them.  :class:`LayerGraph` runs it.

**Forward** visits the nodes in topological order (every node after the nodes
that produce its inputs) and hands each layer the values of its input tensors.

**Backward** visits them in reverse.  Each node receives ``dL/da`` for the
tensor it produced and gives back ``dL/dx`` for each of its inputs.  A tensor
that feeds several nodes (``h`` in ``Add()([f(h), g(h)])``) influences the
loss along each path, so by the chain rule its gradient is the **sum** of what
the paths send back — micrograd's rule ``self.grad += ...``, at the scale of
layers:

    dL/dh = Σ over the nodes c that read h of  (dL/dx of c, for its input h)

A layer called twice (a *shared* layer) has one set of weights used twice, so
its weight gradients add up the same way: the second backward through it is
added to the first.  Each call keeps the record of its own forward pass
(``node.record``), which the backward pass of that call reads.
"""

from __future__ import annotations

from ..backend import array_module

__all__ = ["LayerGraph", "LayerCollection", "Delta"]


class Delta:
    """``δ = dL/dz`` handed to an output layer instead of ``dL/da`` (the fused losses)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _is_input_node(node):
    return node is not None and not node.inputs


def number_names(layers, registry):
    """Number automatic names within one model or layer (dense, dense_1, ...); refuse duplicates."""
    taken = set()
    for layer in layers:
        if layer.auto_named and layer.name in taken:
            base, k = registry.name_of(layer), 0
            while layer.name in taken:
                k += 1
                layer.name = f"{base}_{k}"
        if layer.name in taken:
            raise ValueError(f"two layers are named {layer.name!r}; layer names must be unique "
                             f"within a model")
        taken.add(layer.name)


class LayerCollection:
    """What a graph and a chain share: their layers' weights, one layer after another.

    A parent hands the collection views into its flat vectors (``bind``): all
    trained arrays first, layer by layer, then all the states; each layer
    receives its own (``layer.bind_to``).
    """

    layers = ()

    def param_shapes(self):
        return [s for layer in self.layers for s in layer.param_shapes()]

    def state_shapes(self):
        return [s for layer in self.layers for s in layer.state_shapes()]

    def initial_weights(self, dtype):
        params, states = [], []
        for layer in self.layers:
            arrays = list(layer.initial_weights(dtype))
            n = len(layer.param_shapes())
            params += arrays[:n]
            states += arrays[n:]
        return params + states

    def bind(self, weights, grads):
        """Hand each layer its views: trained arrays first (all layers), then the states."""
        p, s = 0, len(grads)
        for layer in self.layers:
            n_p, n_s = len(layer.param_shapes()), len(layer.state_shapes())
            layer.bind_to(list(weights[p:p + n_p]) + list(weights[s:s + n_s]), grads[p:p + n_p])
            p, s = p + n_p, s + n_s

    def penalty(self):
        return sum(layer.penalty() for layer in self.layers)

    def penalty_gradient(self):
        for layer in self.layers:
            layer.penalty_gradient()

    def can_backpropagate(self):
        return self.blocking_layer() is None

    def blocking_layer(self):
        for layer in self.layers:
            blocked = layer.blocking_layer()
            if blocked is not None:
                return blocked
        return None


class LayerGraph(LayerCollection):
    """The nodes between ``inputs`` and ``outputs`` (lists of symbolic tensors), ready to run.

    Attributes
    ----------
    layers : list of Layer
        Each layer once, in the order of its first call (a shared layer once).
    input_layers : list of Layer
        The InputLayer behind each input tensor (None where an input is not an
        ``Input``, e.g. inside a layer made of layers).
    """

    def __init__(self, inputs, outputs, name="graph"):
        self.inputs, self.outputs, self.name = list(inputs), list(outputs), name
        slot = {id(t): i for i, t in enumerate(self.inputs)}
        if len(slot) != len(self.inputs):
            raise ValueError("the same tensor is given twice among the inputs")
        order = self._topological_order(slot)
        self.steps = []
        for node in order:
            in_slots = [slot[id(t)] for t in node.inputs]
            out_slots = []
            for t in node.outputs:
                slot[id(t)] = len(slot)
                out_slots.append(slot[id(t)])
            self.steps.append((node, in_slots, out_slots))
        self.n_slots = len(slot)
        self.output_slots = [slot[id(t)] for t in self.outputs]
        self.layers = []
        seen = set()
        for node, _, _ in self.steps:
            if id(node.layer) not in seen:
                seen.add(id(node.layer))
                self.layers.append(node.layer)
        self.input_layers = [t.node.layer if _is_input_node(t.node) else None
                             for t in self.inputs]
        readers = [0] * self.n_slots
        for _, in_slots, _ in self.steps:
            for s in in_slots:
                readers[s] += 1
        #: how many nodes read each tensor (an output read by no node may take a fused δ)
        self.readers = readers
        self.producer = {out[0]: node for node, _, out in self.steps if len(out) == 1}
        calls = {}
        self.call_index = {}               # id(node) -> which call of its layer it is
        for node, _, _ in self.steps:
            self.call_index[id(node)] = calls.get(id(node.layer), 0)
            calls[id(node.layer)] = self.call_index[id(node)] + 1
        self.calls = calls
        # the backward pass, planned once: each step in reverse, whether it reads a tensor
        # made inside the graph, and whether its layer was called again later (shared)
        plan, seen = [], set()
        for node, in_slots, out_slots in reversed(self.steps):
            plan.append((node, in_slots, out_slots,
                         any(s >= len(self.inputs) for s in in_slots), id(node.layer) in seen))
            seen.add(id(node.layer))
        self.backward_plan = plan
        self.input_widths = [t.width for t in self.inputs]
        self.n_outputs = len(self.outputs)

    def _topological_order(self, slot):
        """The nodes the outputs depend on, each after the nodes it reads from."""
        order, done, expanded = [], set(), set()
        stack = []
        for t in reversed(self.outputs):
            self._check_reachable(t, slot)
            if id(t) not in slot:
                stack.append(t.node)
        while stack:                        # iterative: a chain of 10,000 layers is fine
            node = stack[-1]
            if id(node) in done:
                stack.pop()
                continue
            if id(node) not in expanded:
                expanded.add(id(node))
                for t in reversed(node.inputs):
                    self._check_reachable(t, slot)
                    if id(t) not in slot and id(t.node) not in done:
                        stack.append(t.node)
                continue
            stack.pop()
            done.add(id(node))
            order.append(node)
        return order

    def _check_reachable(self, tensor, slot):
        if id(tensor) in slot:
            return
        if tensor.node is None or _is_input_node(tensor.node):
            raise ValueError(f"graph {self.name!r} is disconnected: it needs the input tensor "
                             f"{tensor!r}, which is not among its inputs")

    def output_widths(self):
        return [t.width for t in self.outputs]

    def nodes(self):
        """The nodes, in topological order."""
        return [node for node, _, _ in self.steps]

    def output_node(self, k):
        """The node that produced output ``k``, when no other node reads it (else None)."""
        s = self.output_slots[k]
        if s < len(self.inputs) or self.readers[s] or self.output_slots.count(s) > 1:
            return None
        return self.producer.get(s)

    # -- building --------------------------------------------------------------------
    def build(self, widths, rng):
        """Build every layer for inputs of these widths; returns the output widths."""
        if len(widths) != len(self.inputs):
            raise ValueError(f"graph {self.name!r} has {len(self.inputs)} inputs; received "
                             f"{len(widths)} widths")
        width = [None] * self.n_slots
        width[:len(widths)] = [int(w) for w in widths]
        built = set()
        for node, in_slots, out_slots in self.steps:
            layer = node.layer
            w_in = [width[s] for s in in_slots] if layer.takes_list else width[in_slots[0]]
            if id(layer) in built:
                if layer.input_dim != w_in:
                    raise ValueError(f"layer {layer.name!r} is called on inputs of width "
                                     f"{layer.input_dim} and of width {w_in}: a shared layer "
                                     f"receives inputs of one width")
                out = layer.output_dim
            else:
                out = layer.build_from(w_in, rng)
                built.add(id(layer))
            for s, w in zip(out_slots, out if isinstance(out, list) else [out]):
                width[s] = w
        self.input_widths = list(widths)
        for t, s in zip(self.outputs, self.output_slots):
            t.width = width[s]
        return [width[s] for s in self.output_slots]

    # -- running -----------------------------------------------------------------------
    def forward(self, xs, training=False):
        """Run the nodes in topological order; returns the output values (a list)."""
        values = [None] * self.n_slots
        values[:len(xs)] = xs
        for node, in_slots, out_slots in self.steps:
            layer = node.layer
            if layer.takes_list:
                a = layer.forward([values[s] for s in in_slots], training)
            else:
                a = layer.forward(values[in_slots[0]], training)
            node.record = layer.record
            if len(out_slots) == 1:
                values[out_slots[0]] = a
            else:
                for s, v in zip(out_slots, a):
                    values[s] = v
        self.values = values
        return [values[s] for s in self.output_slots]

    def backward(self, output_grads, need_input_grad=True):
        """Backpropagate from ``dL/d(output)`` (an array, a :class:`Delta` or None per output).

        Fills every layer's gradients (zeros for a layer the loss does not
        depend on) and returns ``dL/dx`` for each input (None when not needed
        or not reached).
        """
        grads = [None] * self.n_slots
        deltas = {}
        for s, g in zip(self.output_slots, output_grads):
            if isinstance(g, Delta):
                deltas[s] = g.value
            elif g is not None:
                grads[s] = g if grads[s] is None else grads[s] + g
        n_inputs = len(self.inputs)
        for node, in_slots, out_slots, internal, later in self.backward_plan:
            layer = node.layer
            need = need_input_grad or internal
            # a shared layer's call that is not the last one backpropagated: add, not replace
            earlier = [g.copy() for g in layer.bound_grads] if later else None
            layer.record = node.record
            if len(out_slots) == 1:
                s = out_slots[0]
                if s in deltas:
                    grad_in = layer.backward_from_delta(deltas[s], need)
                elif grads[s] is not None:
                    grad_in = layer.backward(grads[s], need)
                else:                           # nothing downstream depends on this node
                    grad_in = self._unreached(layer, earlier)
                    earlier = None
            else:
                outs = [grads[s] for s in out_slots]
                if all(g is None for g in outs):
                    grad_in = self._unreached(layer, earlier)
                    earlier = None
                else:
                    values = self.values
                    outs = [array_module(values[s]).zeros_like(values[s]) if g is None else g
                            for s, g in zip(out_slots, outs)]
                    grad_in = layer.backward(outs, need)
            if earlier is not None:             # a shared layer: its gradients add up
                for g, e in zip(layer.bound_grads, earlier):
                    g += e
            if grad_in is None or not need:
                continue
            for s, g in zip(in_slots, grad_in if layer.takes_list else [grad_in]):
                if g is not None and (s >= n_inputs or need_input_grad):
                    grads[s] = g if grads[s] is None else grads[s] + g    # Σ over the readers
        return [grads[s] for s in range(n_inputs)]

    @staticmethod
    def _unreached(layer, earlier):
        """A node the loss does not depend on: its layer's gradient from this call is 0."""
        if earlier is None:
            for g in layer.bound_grads:
                g[...] = 0
        return None

    def records(self):
        """Each node's record (a layer made of layers keeps them with each of its calls)."""
        return [node.record for node, _, _ in self.steps]

    def restore_records(self, records):
        for (node, _, _), record in zip(self.steps, records):
            node.record = record

    def traced_layers(self):
        """Each node's layer, in order, with that node's record put back (for the trace)."""
        for node, _, _ in self.steps:
            node.layer.record = node.record
            yield node.layer

    def to_onnx(self, graph, names):
        """Write the nodes as ONNX (see :mod:`glassnet.export`); returns the output names."""
        values = [None] * self.n_slots
        values[:len(names)] = names
        for node, in_slots, out_slots in self.steps:
            layer = node.layer
            ins = [values[s] for s in in_slots]
            out = layer.to_onnx(graph, ins if layer.takes_list else ins[0])
            for s, v in zip(out_slots, out if isinstance(out, list) else [out]):
                values[s] = v
        return [values[s] for s in self.output_slots]

    def inbound(self, node):
        """The layers whose outputs ``node`` reads (for ``summary``): ``name``, or
        ``name[k]`` for the k-th call of a layer called several times."""
        names = []
        for t in node.inputs:
            if t.node is None:
                names.append(t.name or "input")
            elif self.calls.get(id(t.node.layer), 1) > 1:
                names.append(f"{t.node.layer.name}[{self.call_index[id(t.node)]}]")
            else:
                names.append(t.node.layer.name)
        return names
