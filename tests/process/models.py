"""Models for tests/process.rs, chosen by the first argument. Each writes its
process id to $PIDFILE (if set), so that the test can check it is gone."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import cspsim_process as cspsim

MODE = sys.argv[1]
AT = int(sys.argv[2]) if len(sys.argv) > 2 else 5
if os.environ.get("PIDFILE"):
    with open(os.environ["PIDFILE"], "w") as f:
        f.write(str(os.getpid()))


class Counter:
    """q counts cycles with en (8 bits, registered); sum = a + b (combinational)."""
    inputs = {"en": 1, "a": 8, "b": 8}
    outputs = {"q": 8, "sum": 9}

    def __init__(self):
        self.q, self.cycle = 0, 0

    def reset(self):
        return {"q": 0}

    def eval(self, ins):
        return {"sum": ins["a"] + ins["b"]}

    def tick(self, ins):
        if self.cycle == AT:
            misbehave()
        self.cycle += 1
        self.q = (self.q + ins["en"]) & 0xFF
        print("tick", self.cycle)  # goes to stderr, not into the frames
        return {"q": self.q}


def misbehave():
    print("about to misbehave in mode", MODE, file=sys.stderr)
    sys.stderr.flush()
    if MODE == "exit":
        os._exit(3)
    if MODE == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    if MODE == "hang":
        time.sleep(3600)
    if MODE == "stdout":
        os.write(int(os.environ["PROTOCOL_FD"]), b"hello from the model\n")
        time.sleep(3600)
    if MODE == "fail":
        raise cspsim.Fail("the reading is too hot")
    if MODE == "raise":
        return 1 // 0


if MODE == "ports":
    class Wrong(Counter):
        outputs = {"q": 16, "sum": 9}
    cspsim.serve(Wrong())
else:
    if MODE == "stdout":
        # Reach past the helper to the protocol's own stdout, as a buggy
        # program that writes text there would.
        real_dup = os.dup
        def spy(fd):
            new = real_dup(fd)
            if fd == 1:
                os.environ["PROTOCOL_FD"] = str(new)
            return new
        os.dup = spy
    cspsim.serve(Counter())
