//! `bus`: a shared bus with n masters and an arbiter (round robin or fixed
//! priority) that grants one transaction per cycle to a slave.

use crate::lower::{Binary, Lowering, Val};
use crate::model::{Deps, Interface, Io, Model, ModelInfo};
use crate::params::ParamDecl;
use crate::value::{bits_for, PortType};

use super::port_array;

struct Bus {
    masters: usize,
    round_robin: bool,
    /// The master granted most recently (round robin starts after it).
    last: usize,
    /// This cycle's winner, found in eval, remembered at the edge.
    winner: Option<usize>,
}

impl Bus {
    // Input layout: req[0..n], we[0..n], addr[0..n], wdata[0..n].
    fn req(&self, i: usize) -> usize {
        i
    }
    fn we(&self, i: usize) -> usize {
        self.masters + i
    }
    fn addr(&self, i: usize) -> usize {
        2 * self.masters + i
    }
    fn wdata(&self, i: usize) -> usize {
        3 * self.masters + i
    }
    // Output layout: gnt[0..n], then the slave side.
    fn valid(&self) -> usize {
        self.masters
    }

    fn arbitrate(&self, io: &Io<'_>) -> Option<usize> {
        let n = self.masters;
        let first = if self.round_robin {
            (self.last + 1) % n
        } else {
            0
        };
        (0..n)
            .map(|k| (first + k) % n)
            .find(|&i| io.get_bool(self.req(i)))
    }
}

impl Model for Bus {
    /// The winner is decided anew by every evaluation: only the last
    /// grant carries over to the next cycle.
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::of(&self.last)
    }

    fn restore(&mut self, state: &crate::model::ModelState, _io: &Io<'_>) -> Result<(), String> {
        self.last = state.read()?;
        self.winner = None;
        Ok(())
    }

    fn unlower(&mut self, state: &[u64], _arrays: &[Vec<u64>]) {
        self.last = state[0] as usize;
    }

    /// Up to 64 masters. The evaluation keeps the cycle's grant in a state
    /// word, which the clock edge makes the last grant.
    fn lower(&self) -> Option<Lowering> {
        let n = self.masters;
        if n > 64 {
            return None;
        }
        let mut l = Lowering::new();
        let last = l.state_word(self.last as u64);
        let pending = l.state_word(self.winner.unwrap_or(self.last) as u64);
        let e = &mut l.eval;
        let reqs: Vec<Val> = (0..n).map(|i| e.input(self.req(i))).collect();
        let previous = e.load(last);
        let rr = self.round_robin.then_some(previous);
        let (valid, winner) = super::arbiter::lower_pick(e, &reqs, rr);
        for i in 0..n {
            let this = e.binary_const(Binary::Eq, winner, i as u64);
            e.set_output(i, this);
        }
        let v = self.valid();
        e.set_output(v, valid);
        for (k, port) in [Self::we, Self::addr, Self::wdata].into_iter().enumerate() {
            // The winner's; 0 when nobody requests (the winner is then 64).
            let mut chosen = e.constant(0);
            for i in (0..n).rev() {
                let this = e.binary_const(Binary::Eq, winner, i as u64);
                let x = e.input(port(self, i));
                chosen = e.select(this, x, chosen);
            }
            e.set_output(v + 1 + k, chosen);
        }
        let zero = e.constant(0);
        let owner = e.select(valid, winner, zero);
        e.set_output(v + 4, owner);
        let granted = e.select(valid, winner, previous);
        e.store(pending, granted);
        let granted = l.tick.load(pending);
        l.tick.store(last, granted);
        Some(l)
    }

    fn reset(&mut self, _io: &Io<'_>) {
        self.last = self.masters - 1;
        self.winner = None;
    }

    fn eval(&mut self, io: &Io<'_>) {
        let winner = self.arbitrate(io);
        for i in 0..self.masters {
            io.set(i, u64::from(winner == Some(i)));
        }
        let v = self.valid();
        match winner {
            Some(w) => {
                io.set(v, 1);
                io.set(v + 1, io.get(self.we(w)));
                io.set(v + 2, io.get(self.addr(w)));
                io.set(v + 3, io.get(self.wdata(w)));
                io.set(v + 4, w as u64);
            }
            None => (0..5).for_each(|k| io.set(v + k, 0)),
        }
        self.winner = winner;
    }

    fn tick(&mut self, _io: &Io<'_>) {
        if let Some(w) = self.winner {
            self.last = w;
        }
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new("bus", "shared bus with an arbiter for n masters", |p, _| {
        let n = p.usize("masters")?;
        let addr = PortType::Bits(p.width("addr_width")?);
        let data = PortType::Bits(p.width("data_width")?);
        let bit = PortType::Bits(1);
        let mut ports = Interface::new().clocked(true);
        for name in port_array("req", n) {
            ports = ports.input(name, bit);
        }
        for name in port_array("we", n) {
            ports = ports.optional_input(name, bit, 0);
        }
        for name in port_array("addr", n) {
            ports = ports.optional_input(name, addr, 0);
        }
        for name in port_array("wdata", n) {
            ports = ports.optional_input(name, data, 0);
        }
        // One list shared by every output that depends on the requests
        // alone: declaring them is linear in the masters, not quadratic.
        let reqs = Deps::from((0..n).collect::<Vec<usize>>());
        let with =
            |offset: usize| -> Vec<usize> { (0..n).chain(offset * n..(offset + 1) * n).collect() };
        for name in port_array("gnt", n) {
            ports = ports.combinational_on(name, bit, reqs.clone());
        }
        ports = ports
            .combinational_on("valid", bit, reqs.clone())
            .combinational_on("we", bit, with(1))
            .combinational_on("addr", addr, with(2))
            .combinational_on("wdata", data, with(3))
            .combinational_on("owner", PortType::Bits(bits_for(n as u64) as u8), reqs);
        let round_robin = p.str("arbitration")? == "round_robin";
        Ok((
            ports,
            Box::new(Bus {
                masters: n,
                round_robin,
                last: n - 1,
                winner: None,
            }),
        ))
    })
    .doc(
        "Inputs per master i: req[i] (Bits(1)); optional we[i] (Bits(1)), addr[i]\n\
         (Bits(addr_width)) and wdata[i] (Bits(data_width)), default 0.\n\
         Outputs (combinational): gnt[i] per master; to the slave: valid, we, addr, wdata\n\
         (the granted master's) and owner (its index); all 0 when nobody requests.\n\
         Protocol, one transaction per cycle: a master holds req[i] with its we/addr/wdata\n\
         until it sees gnt[i] = 1; in that cycle its transaction is on the slave side. A\n\
         write happens at that cycle's clock edge. Read data comes from the slave's read\n\
         port (e.g. `ram` with read: \"comb\" gives it in the same cycle): wire the slave's\n\
         rdata to the masters directly — the bus does not route it back, so there is no\n\
         combinational loop through the slave.\n\
         Arbitration: \"round_robin\" starts after the master granted last, so a master that\n\
         keeps requesting waits at most masters-1 cycles; \"priority\" grants the lowest index.",
    )
    .param(ParamDecl::int("masters", 1, 65536, "number of masters"))
    .param(ParamDecl::int("addr_width", 1, 64, "address bits").default(16))
    .param(ParamDecl::int("data_width", 1, 64, "data bits").default(32))
    .param(
        ParamDecl::choice(
            "arbitration",
            &["round_robin", "priority"],
            "who wins a conflict",
        )
        .default("round_robin"),
    )
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    fn bench(arbitration: &str) -> Testbench {
        Testbench::new(
            "bus",
            params! { "masters" => 3, "addr_width" => 8, "data_width" => 8, "arbitration" => arbitration },
        )
        .unwrap()
    }

    /// The granted master each cycle while `reqs` request.
    fn grants(tb: &mut Testbench, reqs: &[usize], cycles: usize) -> Vec<u64> {
        for i in 0..3 {
            tb.set(&format!("req[{i}]"), u64::from(reqs.contains(&i)));
        }
        (0..cycles)
            .map(|_| {
                let gnts: Vec<u64> = (0..3).map(|i| tb.get(&format!("gnt[{i}]"))).collect();
                assert_eq!(
                    gnts.iter().sum::<u64>(),
                    tb.get("valid"),
                    "one grant at most"
                );
                let owner = tb.get("owner");
                if tb.get("valid") == 1 {
                    assert_eq!(gnts[owner as usize], 1);
                }
                tb.step();
                owner
            })
            .collect()
    }

    #[test]
    fn round_robin_takes_turns() {
        let mut tb = bench("round_robin");
        assert_eq!(grants(&mut tb, &[0, 1, 2], 6), vec![0, 1, 2, 0, 1, 2]);
        assert_eq!(grants(&mut tb, &[0, 2], 4), vec![0, 2, 0, 2]);
        assert_eq!(grants(&mut tb, &[1], 2), vec![1, 1]);
        assert_eq!(grants(&mut tb, &[], 1), vec![0]);
        assert_eq!(tb.get("valid"), 0);
    }

    #[test]
    fn priority_always_picks_the_lowest_index() {
        let mut tb = bench("priority");
        assert_eq!(grants(&mut tb, &[1, 2], 3), vec![1, 1, 1]);
        assert_eq!(grants(&mut tb, &[0, 1, 2], 2), vec![0, 0]);
    }

    #[test]
    fn the_winner_s_transaction_reaches_the_slave() {
        let mut tb = bench("priority");
        for (i, (addr, data, we)) in [(10, 100, 1), (20, 200, 0), (30, 250, 1)]
            .into_iter()
            .enumerate()
        {
            tb.set(&format!("addr[{i}]"), addr);
            tb.set(&format!("wdata[{i}]"), data);
            tb.set(&format!("we[{i}]"), we);
        }
        tb.set("req[1]", 1);
        tb.set("req[2]", 1);
        assert_eq!(
            (tb.get("addr"), tb.get("wdata"), tb.get("we")),
            (20, 200, 0)
        );
        tb.set("req[1]", 0);
        assert_eq!(
            (tb.get("addr"), tb.get("wdata"), tb.get("we")),
            (30, 250, 1)
        );
    }
}
