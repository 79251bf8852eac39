"""Write a cspsim component in Python: ``serve(model)`` answers the process
protocol (docs/process-protocol.md) on stdin and stdout. Standard library only.

A model is an object with any of these methods, each returning a dict of
output values by name (outputs it leaves out keep their values):

- ``reset(self)``: the registered outputs' initial values;
- ``eval(self, inputs)``: the combinational outputs, from this cycle's inputs;
- ``tick(self, inputs)``: the registered outputs after the clock edge.

``inputs`` maps each input's name to an int (Bits) or a float (real). The
model declares its ports as ``inputs`` and ``outputs`` dicts, name -> width
or ``"real"``, in the circuit's order; the handshake checks them against
the circuit. Raise ``Fail("message")`` to fail a check (the run stops with
the message); any other exception stops the run as a crash, with its
traceback. While serving, ``print`` writes to stderr: stdout carries frames.
``self.path`` and ``self.seed`` are set before ``reset``.
"""

import os
import struct
import sys
import traceback

VERSION = 1
HELLO, RESET, EVAL, TICK, FINISH = 0x01, 0x02, 0x03, 0x04, 0x05
HELLO_REPLY, OUTPUTS, BYE, ERROR = 0x81, 0x82, 0x85, 0x8F


class Fail(Exception):
    """A deliberate failure: the run stops at this cycle with the message."""


class _Reader:
    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, n):
        if self.at + n > len(self.data):
            raise ValueError("a frame ends inside a field")
        b = self.data[self.at:self.at + n]
        self.at += n
        return b

    def u8(self):
        return self.take(1)[0]

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def str(self):
        return self.take(self.u32()).decode("utf-8")

    def param(self):
        tag = self.u8()
        if tag == 0:
            return int.from_bytes(self.take(16), "little", signed=True)
        if tag == 1:
            return struct.unpack("<d", self.take(8))[0]
        if tag == 2:
            return self.u8() != 0
        if tag == 3:
            return self.str()
        if tag == 4:
            return [self.param() for _ in range(self.u32())]
        raise ValueError("unknown parameter tag %d" % tag)

    def ports(self):
        ports = []
        for _ in range(self.u32()):
            name, width, comb = self.str(), self.u8(), self.u8()
            ports.append((name, "real" if width == 0 else width, comb != 0))
        return ports


def _frame(kind, payload=b""):
    return struct.pack("<IB", len(payload) + 1, kind) + payload


def _string(s):
    b = s.encode("utf-8")
    return struct.pack("<I", len(b)) + b


def _ports(ports):
    out = struct.pack("<I", len(ports))
    for name, ty, comb in ports:
        out += _string(name) + struct.pack("<BB", 0 if ty == "real" else ty, 1 if comb else 0)
    return out


def _read_frame(stdin):
    head = stdin.read(5)
    if len(head) < 5:
        return None, None
    length, kind = struct.unpack("<IB", head)
    payload = stdin.read(length - 1)
    if len(payload) < length - 1:
        return None, None
    return kind, payload


def _declared(model, attr, given):
    """The model's own port list, or the circuit's if it declares none."""
    ports = getattr(model, attr, None)
    if ports is None:
        return given
    comb = {name: c for name, _, c in given}
    return [(name, ty, comb.get(name, False)) for name, ty in ports.items()]


def serve(model):
    """Answer the protocol for ``model`` until cspsim says finish."""
    stdin = sys.stdin.buffer
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # prints go to stderr; the frames have their own stdout
    sys.stdout = sys.stderr

    def send(kind, payload=b""):
        out.write(_frame(kind, payload))
        out.flush()

    kind, payload = _read_frame(stdin)
    if kind != HELLO:
        sys.exit("cspsim_process: the first frame is not a handshake")
    r = _Reader(payload)
    version, path, seed, _model = r.u32(), r.str(), r.u64(), r.str()
    _params = [(r.str(), r.param()) for _ in range(r.u32())]
    _dir, ins, outs = r.str(), r.ports(), r.ports()
    model.path, model.seed = path, seed
    ins, outs = _declared(model, "inputs", ins), _declared(model, "outputs", outs)
    send(HELLO_REPLY, struct.pack("<I", VERSION) + _ports(ins) + _ports(outs))

    names = [name for name, _, _ in outs]
    index = {name: i for i, name in enumerate(names)}
    real_in = [ty == "real" for _, ty, _ in ins]
    types = [ty for _, ty, _ in outs]
    values = [0] * len(outs)
    in_format = "<%dQ" % len(ins)

    def store(result, method):
        for name, v in (result or {}).items():
            if name not in index:
                raise KeyError("%s returned `%s`, which is not an output (outputs: %s)"
                               % (method, name, ", ".join(names)))
            o = index[name]
            if types[o] == "real":
                values[o] = struct.unpack("<Q", struct.pack("<d", float(v)))[0]
            else:
                values[o] = int(v) & ((1 << types[o]) - 1)

    def inputs(payload):
        raw = struct.unpack(in_format, payload)
        return {
            name: struct.unpack("<d", struct.pack("<Q", v))[0] if real else v
            for (name, _, _), v, real in zip(ins, raw, real_in)
        }

    while True:
        kind, payload = _read_frame(stdin)
        if kind is None:
            return
        if kind == FINISH:
            send(BYE)
            return
        method = {RESET: "reset", EVAL: "eval", TICK: "tick"}.get(kind)
        if method is None:
            sys.exit("cspsim_process: unexpected frame kind %d" % kind)
        try:
            f = getattr(model, method, None)
            if f is not None:
                store(f() if kind == RESET else f(inputs(payload)), method)
        except Fail as e:
            send(ERROR, b"\x00" + _string(str(e)))
            continue
        except Exception as e:  # a crash in the model: its traceback to stderr
            traceback.print_exc()
            tb = traceback.extract_tb(e.__traceback__)[-1]
            where = "%s:%d" % (os.path.basename(tb.filename), tb.lineno)
            send(ERROR, b"\x01" + _string("%s: %s (at %s)" % (type(e).__name__, e, where)))
            continue
        send(OUTPUTS, struct.pack("<%dQ" % len(values), *values))
