//! `fifo`: a first-in first-out queue with push/pop and status flags.

use std::collections::VecDeque;

use crate::lower::{Binary, Body, Lowering, Val};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::ParamDecl;
use crate::value::{bits_for, PortType};

const DIN: usize = 0;
const PUSH: usize = 1;
const POP: usize = 2;
const DOUT: usize = 0;
const EMPTY: usize = 1;
const FULL: usize = 2;
const COUNT: usize = 3;
const DROPPED: usize = 4;

struct Fifo {
    depth: usize,
    queue: VecDeque<u64>,
    dropped: u64,
}

impl Fifo {
    fn publish(&self, io: &Io<'_>) {
        io.set(DOUT, self.queue.front().copied().unwrap_or(0));
        io.set(EMPTY, u64::from(self.queue.is_empty()));
        io.set(FULL, u64::from(self.queue.len() == self.depth));
        io.set(COUNT, self.queue.len() as u64);
        io.set(DROPPED, self.dropped);
    }
}

impl Model for Fifo {
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::of(&(&self.queue, self.dropped))
    }

    fn restore(&mut self, state: &crate::model::ModelState, _io: &Io<'_>) -> Result<(), String> {
        let (queue, dropped): (VecDeque<u64>, u64) = state.read()?;
        if queue.len() > self.depth {
            return Err(format!(
                "{} saved words for a FIFO {} deep",
                queue.len(),
                self.depth
            ));
        }
        (self.queue, self.dropped) = (queue, dropped);
        Ok(())
    }

    /// The lowering keeps the queue in a ring: `count` words from `head`.
    fn unlower(&mut self, state: &[u64], arrays: &[Vec<u64>]) {
        let (ring, head, count) = (&arrays[0], state[0] as usize, state[1] as usize);
        self.queue = (0..count).map(|i| ring[(head + i) % self.depth]).collect();
        self.dropped = state[2];
    }

    /// A ring of `depth` words with the index of the oldest and the count.
    fn lower(&self) -> Option<Lowering> {
        use Binary::*;
        let mut l = Lowering::new();
        let depth = self.depth as u64;
        let mut ring: Vec<u64> = self.queue.iter().copied().collect();
        ring.resize(self.depth, 0);
        let ring = l.array(ring);
        let head = l.state_word(0);
        let count = l.state_word(self.queue.len() as u64);
        let dropped = l.state_word(self.dropped);
        let t = &mut l.tick;
        let (din, push, pop) = (t.input(DIN), t.input(PUSH), t.input(POP));
        let zero = t.constant(0);
        let wrap = |t: &mut Body, i: Val| {
            let over = t.binary_const(Ge, i, depth);
            let back = t.binary_const(Sub, i, depth);
            t.select(over, back, i)
        };
        let (h, c) = (t.load(head), t.load(count));
        // A pop removes the oldest word, if there is one.
        let held = t.binary_const(Ne, c, 0);
        let popped = t.binary(And, pop, held);
        let next = t.binary_const(Add, h, 1);
        let next = wrap(t, next);
        let h = t.select(popped, next, h);
        let c = t.binary(Sub, c, popped);
        // Then a push appends, if there is room.
        let room = t.binary_const(Lt, c, depth);
        let pushed = t.binary(And, push, room);
        let full_before = t.unary(crate::lower::Unary::IsZero, room);
        let refused = t.binary(And, push, full_before);
        let tail = t.binary(Add, h, c);
        let tail = wrap(t, tail);
        let old = t.load_at(ring, tail);
        let word = t.select(pushed, din, old);
        t.store_at(ring, tail, word);
        let c = t.binary(Add, c, pushed);
        let lost = t.load(dropped);
        let lost = t.binary(Add, lost, refused);
        t.store(head, h);
        t.store(count, c);
        t.store(dropped, lost);
        // Publish.
        let empty = t.binary_const(Eq, c, 0);
        let front = t.load_at(ring, h);
        let front = t.select(empty, zero, front);
        let full = t.binary_const(Eq, c, depth);
        t.set_output(DOUT, front);
        t.set_output(EMPTY, empty);
        t.set_output(FULL, full);
        t.set_output(COUNT, c);
        t.set_output(DROPPED, lost);
        Some(l)
    }

    fn reset(&mut self, io: &Io<'_>) {
        self.queue.clear();
        self.dropped = 0;
        self.publish(io);
    }
    fn tick(&mut self, io: &Io<'_>) {
        if io.get_bool(POP) {
            self.queue.pop_front();
        }
        if io.get_bool(PUSH) {
            if self.queue.len() < self.depth {
                self.queue.push_back(io.get(DIN));
            } else {
                self.dropped += 1;
            }
        }
        self.publish(io);
    }
}

pub fn info() -> ModelInfo {
    ModelInfo::new("fifo", "first-in first-out queue", |p, _| {
        let width = p.width("width")?;
        let depth = p.usize("depth")?;
        let data = PortType::Bits(width);
        let bit = PortType::Bits(1);
        let ports = Interface::new()
            .input("din", data)
            .optional_input("push", bit, 0)
            .optional_input("pop", bit, 0)
            .registered("dout", data)
            .registered("empty", bit)
            .registered("full", bit)
            .registered("count", PortType::Bits(bits_for(depth as u64 + 1) as u8))
            .registered("dropped", PortType::Bits(32));
        Ok((
            ports,
            Box::new(Fifo {
                depth,
                queue: VecDeque::with_capacity(depth),
                dropped: 0,
            }),
        ))
    })
    .doc(
        "Inputs: din (Bits(width)); push, pop (Bits(1), optional, default 0).\n\
         Outputs (all registered): dout, the oldest word (0 when empty); empty; full;\n\
         count (words held); dropped (pushes refused because the FIFO was full, counted mod 2^32).\n\
         At the edge a pop removes the word shown on dout, then a push appends din. A pop when\n\
         empty does nothing. A push when full is refused and counted in `dropped` — unless the\n\
         same edge pops, which makes room.",
    )
    .param(ParamDecl::width("bits per word"))
    .param(ParamDecl::int("depth", 1, 1 << 24, "words it can hold").default(16))
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench};

    #[test]
    fn keeps_order_and_reports_its_state() {
        let mut tb = Testbench::new("fifo", params! { "width" => 8, "depth" => 2 }).unwrap();
        assert_eq!(
            (tb.get("empty"), tb.get("full"), tb.get("count")),
            (1, 0, 0)
        );
        tb.set("push", 1);
        for v in [10, 11] {
            tb.set("din", v);
            tb.step();
        }
        assert_eq!(
            (tb.get("dout"), tb.get("full"), tb.get("count")),
            (10, 1, 2)
        );
        tb.set("din", 12);
        tb.step();
        assert_eq!(
            (tb.get("count"), tb.get("dropped")),
            (2, 1),
            "push when full is refused and counted"
        );
        tb.set("pop", 1);
        tb.set("din", 13);
        tb.step();
        assert_eq!(
            (tb.get("dout"), tb.get("count"), tb.get("dropped")),
            (11, 2, 1),
            "pop makes room for a push"
        );
        tb.set("push", 0);
        tb.step();
        assert_eq!(tb.get("dout"), 13);
        tb.step();
        assert_eq!((tb.get("empty"), tb.get("dout")), (1, 0));
        tb.step();
        assert_eq!(
            (tb.get("empty"), tb.get("count")),
            (1, 0),
            "pop when empty does nothing"
        );
    }
}
