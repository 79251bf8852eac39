//! `ram` and `rom`: word-addressed memories with a combinational or
//! registered read port; the RAM writes synchronously.

use crate::lower::Lowering;
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::ParamDecl;
use crate::primitives::contents;
use crate::value::{bits_for, PortType};

const ADDR: usize = 0;
const WDATA: usize = 1;
const WE: usize = 2;

struct Memory {
    words: Vec<u64>,
    /// Read at the clock edge into a registered `rdata`, else combinationally.
    registered: bool,
    writable: bool,
}

impl Memory {
    fn read(&self, addr: u64) -> u64 {
        self.words.get(addr as usize).copied().unwrap_or(0)
    }
}

impl Model for Memory {
    /// A ROM's words never change: only a RAM's are saved.
    fn save(&self) -> Option<crate::model::ModelState> {
        match self.writable {
            true => crate::model::ModelState::of(&self.words),
            false => crate::model::ModelState::none(),
        }
    }

    fn restore(&mut self, state: &crate::model::ModelState, _io: &Io<'_>) -> Result<(), String> {
        if !self.writable {
            return state.read::<()>();
        }
        let words: Vec<u64> = state.read()?;
        if words.len() != self.words.len() {
            return Err(format!(
                "{} saved words for a memory of {}",
                words.len(),
                self.words.len()
            ));
        }
        self.words = words;
        Ok(())
    }

    fn unlower(&mut self, _state: &[u64], arrays: &[Vec<u64>]) {
        self.words.copy_from_slice(&arrays[0]);
    }

    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let words = l.array(self.words.clone());
        if !self.registered {
            let e = &mut l.eval;
            let addr = e.input(ADDR);
            let word = e.load_at(words, addr);
            e.set_output(0, word);
        }
        let t = &mut l.tick;
        let addr = t.input(ADDR);
        let old = t.load_at(words, addr);
        if self.registered {
            t.set_output(0, old);
        }
        if self.writable {
            let (wdata, we) = (t.input(WDATA), t.input(WE));
            let word = t.select(we, wdata, old);
            t.store_at(words, addr, word);
        }
        Some(l)
    }

    fn reset(&mut self, io: &Io<'_>) {
        io.set(0, 0);
    }
    fn eval(&mut self, io: &Io<'_>) {
        io.set(0, self.read(io.get(ADDR)));
    }
    fn tick(&mut self, io: &Io<'_>) {
        let addr = io.get(ADDR);
        if self.registered {
            io.set(0, self.read(addr));
        }
        if self.writable && io.get_bool(WE) {
            if let Some(word) = self.words.get_mut(addr as usize) {
                *word = io.get(WDATA);
            }
        }
    }
}

fn info(name: &'static str, summary: &'static str, doc: &'static str, writable: bool) -> ModelInfo {
    let [init, file] = contents::decls();
    ModelInfo::new(name, summary, move |p, ctx| {
        let width = p.width("width")?;
        let depth = p.usize("depth")?;
        let registered = p.str("read")? == "registered";
        let words = contents::load(p, ctx, width.into(), depth)?;
        let data = PortType::Bits(width);
        let mut ports =
            Interface::new().input("addr", PortType::Bits(bits_for(depth as u64) as u8));
        if writable {
            ports = ports
                .input("wdata", data)
                .optional_input("we", PortType::Bits(1), 0);
        }
        ports = if registered {
            ports.registered("rdata", data)
        } else {
            ports
                .combinational_on("rdata", data, vec![ADDR])
                .clocked(writable)
        };
        Ok((
            ports,
            Box::new(Memory {
                words,
                registered,
                writable,
            }) as Box<dyn Model>,
        ))
    })
    .doc(doc)
    .param(ParamDecl::width("bits per word"))
    .param(ParamDecl::int("depth", 1, 1 << 26, "number of words").default(256))
    .param(ParamDecl::choice("read", &["comb", "registered"], "read port timing").default("comb"))
    .param(init)
    .param(file)
}

pub fn infos() -> Vec<ModelInfo> {
    vec![
        info(
            "ram",
            "random-access memory, synchronous write",
            "Inputs: addr (Bits(ceil(log2 depth))); wdata (Bits(width)); we (Bits(1), optional, default 0).\n\
             Outputs: rdata (Bits(width)). With read = \"comb\", rdata = mem[addr] in the same cycle\n\
             (depending on addr only); with read = \"registered\", rdata <= mem[addr] at the edge.\n\
             At the edge, if we: mem[addr] <= wdata. A read in the cycle of a write sees the old word.\n\
             Addresses at or beyond depth read 0 and ignore writes. Contents start from init or file.",
            true,
        ),
        info(
            "rom",
            "read-only memory",
            "Inputs: addr (Bits(ceil(log2 depth))). Outputs: rdata (Bits(width)), mem[addr], combinational\n\
             or (read = \"registered\") registered. Addresses at or beyond depth read 0.\n\
             Contents from init (a list) or file (hex words, or a RON list if it ends in .ron).",
            false,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    #[test]
    fn rom_reads_its_contents_combinationally_or_registered() {
        let mut tb = Testbench::new(
            "rom",
            params! { "width" => 8, "depth" => 3, "init" => vec![7, 8, 9] },
        )
        .unwrap();
        for (a, want) in [(0, 7), (2, 9), (3, 0)] {
            tb.set("addr", a);
            assert_eq!(tb.get("rdata"), want);
        }
        let mut reg = Testbench::new(
            "rom",
            params! { "width" => 8, "depth" => 4, "init" => vec![7, 8], "read" => "registered" },
        )
        .unwrap();
        reg.set("addr", 1);
        assert_eq!(reg.get("rdata"), 0, "nothing read before the edge");
        reg.step();
        assert_eq!(reg.get("rdata"), 8);
    }

    #[test]
    fn ram_writes_at_the_edge_and_reads_old_data_during_a_write() {
        let mut tb = Testbench::new("ram", params! { "width" => 8, "depth" => 4 }).unwrap();
        tb.set("addr", 2);
        tb.set("wdata", 42);
        tb.set("we", 1);
        assert_eq!(tb.get("rdata"), 0, "old word before the edge");
        tb.step();
        assert_eq!(tb.get("rdata"), 42);
        tb.set("we", 0);
        tb.set("wdata", 5);
        tb.step();
        assert_eq!(tb.get("rdata"), 42, "no write without we");
        tb.set("addr", 3);
        assert_eq!(tb.get("rdata"), 0);
    }

    #[test]
    fn registered_ram_reads_before_writing() {
        let mut tb = Testbench::new(
            "ram",
            params! { "width" => 8, "depth" => 2, "read" => "registered", "init" => vec![1, 2] },
        )
        .unwrap();
        tb.set("addr", 1);
        tb.set("wdata", 9);
        tb.set("we", 1);
        tb.step();
        assert_eq!(tb.get("rdata"), 2, "read-before-write at the same edge");
        tb.set("we", 0);
        tb.step();
        assert_eq!(tb.get("rdata"), 9);
    }
}
