"""A 10-bit ADC of a pixel's charge, as a cspsim component written in Python."""
import cspsim_process as cspsim

class Adc:
    inputs = {"charge": "real"}
    outputs = {"code": 10, "over": 1}
    full_scale = 3000.0  # electrons

    def reset(self):
        return {"code": 0}

    def eval(self, ins):  # combinational: `over` follows the charge at once
        return {"over": ins["charge"] >= self.full_scale}

    def tick(self, ins):  # registered: the code is sampled at the clock edge
        return {"code": min(ins["charge"], self.full_scale) / self.full_scale * 1023}

cspsim.serve(Adc())
