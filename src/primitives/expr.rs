//! `expr`: combinational logic written as expressions over named inputs —
//! one component instead of a tangle of gates, and cheaper to simulate.

use crate::batch::BatchIo;
use crate::expr::columns::Columns;
use crate::expr::parse::{declaration, Declaration, Shape};
use crate::expr::{Kind, Program, Scope};
use crate::lower::{Binary, Body, Lowering, Val};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::{ParamDecl, ParamError, Params};
use crate::value::{mask, PortType};

struct Expr {
    /// Each combinational output's expression (temporaries' too), in order.
    outputs: Vec<Program>,
    /// The port of each of `outputs`; `None` for a `let` temporary.
    ports: Vec<Option<usize>>,
    /// Whether the tick computes the temporaries: there are some, and no
    /// combinational port, so no evaluation ever runs.
    temporaries_in_tick: bool,
    /// Each register's next-value expression.
    registers: Vec<Program>,
    /// Each register's value after reset.
    init: Vec<u64>,
    /// One mask per local: the registers', then the outputs' (temporaries'
    /// included).
    masks: Vec<u64>,
    /// The registers' values, then this cycle's outputs and temporaries
    /// (readable by later outputs and by the registers' next values).
    locals: Vec<u64>,
    /// The registers' next values, computed before any is updated.
    next: Vec<u64>,
    inputs: usize,
    /// How the batch this component leads runs (kept by a batch's first member).
    plan: Option<Plan>,
}

/// Fewer members than this run one by one: columns would not pay.
const MIN_COLUMNS: usize = 4;

/// How a batch of `expr` components runs, decided at its first call after reset.
struct Plan {
    members: usize,
    /// `None` when the members' expressions differ in shape: one by one.
    columns: Option<Box<ColumnPlan>>,
}

/// A batch whose members share their expressions' shape, run column-wise
/// (see [`crate::expr::columns`]). While it exists it holds the members'
/// register values; reset drops it.
struct ColumnPlan {
    outputs: Vec<Columns>,
    /// The port of each output; `None` for a temporary.
    ports: Vec<Option<usize>>,
    /// As [`Expr::temporaries_in_tick`].
    temporaries_in_tick: bool,
    registers: Vec<Columns>,
    masks: Vec<u64>,
    /// The inputs the outputs read; those only the registers read.
    eval_reads: Vec<usize>,
    tick_reads: Vec<usize>,
    /// `inputs[i][m]`: member `m`'s input `i` this cycle.
    inputs: Vec<Vec<u64>>,
    /// `locals[p][m]`: member `m`'s port `p` (register value or output) this cycle.
    locals: Vec<Vec<u64>>,
    /// `next[r][m]`: member `m`'s register `r` after the clock edge.
    next: Vec<Vec<u64>>,
}

impl ColumnPlan {
    fn new(batch: &[Expr]) -> Option<Box<Self>> {
        let first = batch.first()?;
        let n = batch.len();
        let merge = |programs: fn(&Expr) -> &[Program]| {
            (0..programs(first).len())
                .map(|k| {
                    let column: Vec<&Program> = batch.iter().map(|e| &programs(e)[k]).collect();
                    Columns::new(&column)
                })
                .collect::<Option<Vec<_>>>()
        };
        let outputs = merge(|e| &e.outputs)?;
        let registers = merge(|e| &e.registers)?;
        let reads = |programs: &[Program]| -> Vec<usize> {
            (0..first.inputs)
                .filter(|&i| programs.iter().any(|p| p.reads_input(i)))
                .collect()
        };
        let r = first.registers.len();
        let locals = (0..first.locals.len())
            .map(|p| {
                if p < r {
                    batch.iter().map(|e| e.locals[p]).collect()
                } else {
                    vec![0; n]
                }
            })
            .collect();
        // A tick comes after its cycle's evaluation, with the same inputs:
        // what the outputs read is gathered already.
        let eval_reads = reads(&first.outputs);
        let tick_reads = reads(&first.registers)
            .into_iter()
            .filter(|i| !eval_reads.contains(i))
            .collect();
        Some(Box::new(ColumnPlan {
            eval_reads,
            tick_reads,
            outputs,
            ports: first.ports.clone(),
            temporaries_in_tick: first.temporaries_in_tick,
            registers,
            masks: first.masks.clone(),
            inputs: vec![vec![0; n]; first.inputs],
            locals,
            next: vec![vec![0; n]; r],
        }))
    }

    /// Gather the `read` inputs of every member.
    fn gather(inputs: &mut [Vec<u64>], read: &[usize], io: &BatchIo<'_>) {
        for &i in read {
            for (v, x) in inputs[i].iter_mut().zip(io.input_column(i)) {
                *v = x;
            }
        }
    }

    fn eval(&mut self, io: &BatchIo<'_>) {
        Self::gather(&mut self.inputs, &self.eval_reads, io);
        let r = self.registers.len();
        for (k, columns) in self.outputs.iter_mut().enumerate() {
            let (earlier, rest) = self.locals.split_at_mut(r + k);
            let out = &mut rest[0];
            columns.eval(&self.inputs, earlier, out, self.masks[r + k]);
            if let Some(port) = self.ports[k] {
                io.set_output_column(port, out);
            }
        }
    }

    fn tick(&mut self, io: &BatchIo<'_>) {
        if self.temporaries_in_tick {
            // No evaluation runs (no combinational port): the tick computes
            // the temporaries its registers read.
            self.eval(io);
        }
        Self::gather(&mut self.inputs, &self.tick_reads, io);
        for (r, columns) in self.registers.iter_mut().enumerate() {
            columns.eval(&self.inputs, &self.locals, &mut self.next[r], self.masks[r]);
        }
        for (r, next) in self.next.iter_mut().enumerate() {
            std::mem::swap(&mut self.locals[r], next);
            io.set_output_column(r, &self.locals[r]);
        }
    }
}

impl Expr {
    /// The batch's column plan, made at the first call after reset; `None`
    /// when the batch runs one by one.
    fn column_plan(batch: &mut [Self]) -> Option<&mut ColumnPlan> {
        let n = batch.len();
        if n < MIN_COLUMNS {
            return None;
        }
        if batch[0].plan.as_ref().is_none_or(|p| p.members != n) {
            let columns = ColumnPlan::new(batch);
            batch[0].plan = Some(Plan {
                members: n,
                columns,
            });
        }
        batch[0].plan.as_mut()?.columns.as_deref_mut()
    }
}

impl Expr {
    /// The inputs that `programs` read, lowered (the others as 0: never read).
    fn lower_inputs(&self, body: &mut Body, programs: &[Program]) -> Vec<Val> {
        let zero = body.constant(0);
        (0..self.inputs)
            .map(|i| {
                if programs.iter().any(|p| p.reads_input(i)) {
                    body.input(i)
                } else {
                    zero
                }
            })
            .collect()
    }
}

impl Model for Expr {
    /// The registers are the registered outputs, which the engine saves.
    fn save(&self) -> Option<crate::model::ModelState> {
        crate::model::ModelState::none()
    }

    fn restore(&mut self, state: &crate::model::ModelState, io: &Io<'_>) -> Result<(), String> {
        state.read::<()>()?;
        for r in 0..self.registers.len() {
            self.locals[r] = io.output(r);
        }
        Ok(())
    }

    /// Registers read their own outputs (registered, so their value this
    /// cycle); a tick reads the outputs its evaluation set this cycle.
    fn lower(&self) -> Option<Lowering> {
        let mut l = Lowering::new();
        let r = self.registers.len();
        let e = &mut l.eval;
        let inputs = self.lower_inputs(e, &self.outputs);
        let mut locals: Vec<Val> = (0..r).map(|p| e.output(p)).collect();
        for (k, program) in self.outputs.iter().enumerate() {
            let v = program.lower(e, &inputs, &locals);
            let v = e.binary_const(Binary::And, v, self.masks[r + k]);
            if let Some(port) = self.ports[k] {
                e.set_output(port, v);
            }
            locals.push(v);
        }
        // The tick reads this cycle's outputs from their ports, and
        // computes the temporaries again (they have no port to keep them).
        let t = &mut l.tick;
        let temporaries: Vec<Program> = self
            .outputs
            .iter()
            .zip(&self.ports)
            .filter(|(_, port)| port.is_none())
            .map(|(p, _)| p.clone())
            .collect();
        let read: Vec<Program> = self.registers.iter().chain(&temporaries).cloned().collect();
        let inputs = self.lower_inputs(t, &read);
        let mut locals: Vec<Val> = (0..r).map(|p| t.output(p)).collect();
        for (k, program) in self.outputs.iter().enumerate() {
            let v = match self.ports[k] {
                Some(port) => t.output(port),
                None => {
                    let v = program.lower(t, &inputs, &locals);
                    t.binary_const(Binary::And, v, self.masks[r + k])
                }
            };
            locals.push(v);
        }
        let next: Vec<Val> = self
            .registers
            .iter()
            .map(|program| program.lower(t, &inputs, &locals))
            .collect();
        for (p, v) in next.into_iter().enumerate() {
            t.set_output(p, v);
        }
        Some(l)
    }

    fn reset(&mut self, io: &Io<'_>) {
        self.plan = None;
        for (r, &init) in self.init.iter().enumerate() {
            self.locals[r] = init;
            io.set(r, init);
        }
    }

    /// Members with expressions of one shape run column-wise; others one by one.
    fn eval_batch(batch: &mut [Self], io: &BatchIo<'_>) {
        if let Some(plan) = Self::column_plan(batch) {
            return plan.eval(io);
        }
        for (k, m) in batch.iter_mut().enumerate() {
            m.eval(&io.member(k));
        }
    }

    fn tick_batch(batch: &mut [Self], io: &BatchIo<'_>) {
        if let Some(plan) = Self::column_plan(batch) {
            return plan.tick(io);
        }
        for (k, m) in batch.iter_mut().enumerate() {
            m.tick(&io.member(k));
        }
    }

    #[inline(always)]
    fn eval(&mut self, io: &Io<'_>) {
        let r = self.registers.len();
        for (k, program) in self.outputs.iter().enumerate() {
            let value = program.eval(|i| io.get(i), &self.locals) & self.masks[r + k];
            self.locals[r + k] = value;
            if let Some(port) = self.ports[k] {
                io.set(port, value);
            }
        }
    }

    #[inline(always)]
    fn tick(&mut self, io: &Io<'_>) {
        if self.temporaries_in_tick {
            // No evaluation runs (no combinational port): the tick computes
            // the temporaries its registers read.
            self.eval(io);
        }
        for (next, (program, mask)) in self
            .next
            .iter_mut()
            .zip(self.registers.iter().zip(&self.masks))
        {
            *next = program.eval(|i| io.get(i), &self.locals) & mask;
        }
        for (r, &next) in self.next.iter().enumerate() {
            self.locals[r] = next;
            io.set(r, next);
        }
    }
}

/// The `inputs` and `constants` parameters as a scope, and the input ports.
/// Shared with `assert`.
pub(crate) fn input_scope(p: &Params) -> Result<(Scope, Vec<(String, PortType)>), ParamError> {
    let mut scope = Scope::new();
    let mut ports = Vec::new();
    for text in p.str_list("constants")? {
        let at = |e| ParamError::in_value("constants", text, e);
        let d = declaration(text, Shape::Constant).map_err(at)?;
        unique(&scope, &d.name, d.name_span.clone()).map_err(at)?;
        let value = d.value.expect("a constant has a value");
        let program = Program::from_node_as(&value, &scope, None).map_err(at)?;
        let Some(v) = program.constant() else {
            unreachable!("constants see only constants")
        };
        scope.constant(&d.name, v);
        if program.kind() == Kind::Real {
            scope.mark_real(&d.name);
        }
    }
    for text in p.str_list("inputs")? {
        let at = |e| ParamError::in_value("inputs", text, e);
        let d = declaration(text, Shape::Port).map_err(at)?;
        unique(&scope, &d.name, d.name_span.clone()).map_err(at)?;
        let Some(count) = d.count else {
            scope.input(&d.name, d.width);
            mark(&mut scope, &d.name, &d);
            ports.push((d.name.clone(), port_type(&d)));
            continue;
        };
        // An array: its elements are the inputs `name[0]` on.
        scope.input_array(&d.name, count, d.width);
        for k in 0..count {
            let element = format!("{}[{k}]", d.name);
            mark(&mut scope, &element, &d);
            ports.push((element, port_type(&d)));
        }
    }
    Ok((scope, ports))
}

/// The port type `d` declares.
fn port_type(d: &Declaration) -> PortType {
    match d.real {
        true => PortType::Real,
        false => PortType::Bits(d.width as u8),
    }
}

/// The kind of value `d` declares.
fn kind(d: &Declaration) -> Kind {
    match d.real {
        true => Kind::Real,
        false => Kind::Bits,
    }
}

/// Record in `scope` what `d` declares `name` to be: signed, or real.
fn mark(scope: &mut Scope, name: &str, d: &Declaration) {
    if d.signed {
        scope.mark_signed(name);
    }
    if d.real {
        scope.mark_real(name);
    }
}

/// A register's value after reset: its `init`, a constant that fits its
/// width, or 0.
fn initial_value(d: &Declaration, scope: &Scope) -> Result<u64, crate::expr::ExprError> {
    let Some((node, span)) = &d.init else {
        return Ok(0);
    };
    let program = Program::from_node_as(node, scope, Some(kind(d)))?;
    let Some(value) = program.constant() else {
        return Err(crate::expr::ExprError::new(
            format!("the initial value of `{}` must be a constant", d.name),
            span.clone(),
        )
        .hint("numbers, `constants` and `${…}` parameters; a register starts before any input is known"));
    };
    if d.real {
        return Ok(value);
    }
    // A signed register may start negative: its bits are kept.
    let negative_fits =
        d.signed && crate::expr::parse::UnOp::SignExtend(d.width as u8).apply(value) == value;
    if value > mask(d.width) && !negative_fits {
        return Err(crate::expr::ExprError::new(
            format!(
                "the initial value {} of `{}` does not fit in {} bits",
                value as i64, d.name, d.width
            ),
            span.clone(),
        ));
    }
    Ok(value & mask(d.width))
}

fn unique(
    scope: &Scope,
    name: &str,
    span: std::ops::Range<usize>,
) -> Result<(), crate::expr::ExprError> {
    if scope.contains(name) {
        Err(
            crate::expr::ExprError::new(format!("`{name}` is declared twice"), span)
                .hint("every input, output and constant needs its own name"),
        )
    } else {
        Ok(())
    }
}

/// The `inputs` and `constants` declarations, shared with `assert`.
pub(crate) fn input_decls(inputs_default: Vec<&str>) -> [ParamDecl; 2] {
    [
        ParamDecl::string_list(
            "inputs",
            "input ports as \"name: width\" or \"name: signed width\" (Bits, 1..=64) or \"name: real\", in port order",
        )
        .default(inputs_default),
        ParamDecl::string_list(
            "constants",
            "named constants as \"NAME = expression\" over earlier constants",
        )
        .default(Vec::<&str>::new()),
    ]
}

pub fn info() -> ModelInfo {
    let [inputs, constants] = input_decls(vec![]);
    ModelInfo::new(
        "expr",
        "logic given as expressions: combinational outputs and registers",
        |p, _| {
            let (mut scope, input_ports) = input_scope(p)?;
            let mut ports = Interface::new();
            for (name, port) in &input_ports {
                ports = ports.input(name.clone(), *port);
            }
            // Registers first: every expression may read their values.
            let mut register_decls = Vec::new();
            let mut init = Vec::new();
            for text in p.str_list("registers")? {
                let at = |e| ParamError::in_value("registers", text, e);
                let d = declaration(text, Shape::Register).map_err(at)?;
                unique(&scope, &d.name, d.name_span.clone()).map_err(at)?;
                init.push(initial_value(&d, &scope).map_err(at)?);
                scope.local(&d.name, d.width);
                mark(&mut scope, &d.name, &d);
                ports = ports.registered(d.name.clone(), port_type(&d));
                register_decls.push((text, d));
            }
            let mut masks: Vec<u64> = register_decls
                .iter()
                .map(|(_, d)| port_type(d).mask())
                .collect();
            // Inputs each local reads, directly or through earlier outputs
            // (none for a register: its value is state).
            let mut reads: Vec<Vec<usize>> = vec![Vec::new(); register_decls.len()];
            let mut outputs = Vec::new();
            let mut output_ports = Vec::new();
            let mut port_count = register_decls.len();
            for text in p.str_list("outputs")? {
                let at = |e| ParamError::in_value("outputs", text, e);
                let d = declaration(text, Shape::Definition).map_err(at)?;
                unique(&scope, &d.name, d.name_span.clone()).map_err(at)?;
                let value = d.value.clone().expect("a definition has a value");
                let program = Program::from_node_as(&value, &scope, Some(kind(&d))).map_err(at)?;
                let mut deps: Vec<usize> = (0..input_ports.len())
                    .filter(|&i| program.reads_input(i))
                    .collect();
                for (k, earlier) in reads.iter().enumerate() {
                    if program.reads_local(k) {
                        deps.extend(earlier);
                    }
                }
                deps.sort_unstable();
                deps.dedup();
                if d.temporary {
                    output_ports.push(None);
                } else {
                    ports = ports.combinational_on(d.name.clone(), port_type(&d), deps.clone());
                    output_ports.push(Some(port_count));
                    port_count += 1;
                }
                scope.local(&d.name, d.width);
                mark(&mut scope, &d.name, &d);
                reads.push(deps);
                masks.push(port_type(&d).mask());
                outputs.push(program);
            }
            if port_count == 0 {
                return Err(ParamError::invalid(
                    "outputs",
                    "declares no output (and `registers` declares no register)",
                ));
            }
            // The registers' next values see every input, register and output.
            let registers = register_decls
                .into_iter()
                .map(|(text, d)| {
                    let value = d.value.clone().expect("a definition has a value");
                    Program::from_node_as(&value, &scope, Some(kind(&d)))
                        .map_err(|e| ParamError::in_value("registers", text, e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let (ports, r) = (ports, registers.len());
            Ok((
                ports,
                Box::new(Expr {
                    temporaries_in_tick: !outputs.is_empty()
                        && output_ports.iter().all(Option::is_none),
                    outputs,
                    ports: output_ports,
                    registers,
                    init,
                    locals: vec![0; masks.len()],
                    masks,
                    next: vec![0; r],
                    inputs: input_ports.len(),
                    plan: None,
                }),
            ))
        },
    )
    .doc(
        "Inputs: as declared by `inputs`, e.g. [\"a: 8\", \"b: 8\", \"op: 2\"]; \"in[8]: 4\" is an\n\
         array, the inputs in[0] to in[7], read as in[3] or reduced with sum(in), and(in),\n\
         or(in), xor(in), min(in), max(in).\n\
         Registers (registered outputs): as declared by `registers`, each\n\
         \"name: width = next value\", e.g. [\"count: 8 = en ? count + 1 : count\"]: at each\n\
         clock edge every register takes its next value at once; reset sets it to 0, or\n\
         to a constant given as \"name: width init value = next value\".\n\
         Outputs (combinational): as declared by `outputs`, each \"name: width = expression\",\n\
         e.g. [\"y: 8 = op == 0 ? a + b : a - b\", \"zero: 1 = y == 0\"], computed in order;\n\
         \"let name: width = expression\" is a temporary, read by later expressions, no port.\n\
         Ports: the registers, then the outputs; at least one of either.\n\
         Outputs use the inputs, the `constants`, the registers and earlier outputs; next\n\
         values use all of these and every output. C/Verilog operators:\n\
         ?: || && | ^ & == != < <= > >= << >> + - * / % and unary ~ ! -, bit\n\
         slices a[7:4] and a[0], numbers in decimal, 0x hex or 0b binary, sized literals\n\
         8'hFF 4'b1010 12'd100 (signed: 8'sd5), concatenation {a, b[3:0], 2'b01} and replication {4{x[1:0]}}\n\
         (parts of known width, 64 bits at most). Functions:\n\
         popcount(x), parity(x), clz(x[, width]), ctz(x[, width]), reverse(x[, width]),\n\
         min(a, b), max(a, b), clog2(x); clz, ctz and reverse count within the width of\n\
         their argument (a declared port, a slice) or the one given. Signed: a port\n\
         declared \"x: signed 8\" or signed(x) / $signed(x) is two's complement; <, <=, >, >=,\n\
         /, %, min, max of two signed operands are signed, abs(x) its magnitude, x >>> n an\n\
         arithmetic shift; unsigned(x) gives the bits back. Otherwise arithmetic is\n\
         unsigned and wraps at 64 bits; comparisons give 0 or 1; x/0 and x%0 give 0;\n\
         each result is masked to its port's width. Reals: a port, register or temporary\n\
         declared \"v: real\" (and a constant written 4.0) is an IEEE double, with 1.5 and 2e-3\n\
         literals, + - * /, comparisons, ?:, min, max, clamp(x, lo, hi), abs, floor, ceil; convert\n\
         with real(x), bits(x, w) and sbits(x, w) (towards zero, saturating; NaN gives 0).\n\
         Parsed and checked once, when the\n\
         circuit is loaded (errors point into the expression); evaluated without re-parsing.",
    )
    .param(inputs)
    .param(
        ParamDecl::string_list(
            "outputs",
            "combinational outputs as \"name: width = expression\", computed in order",
        )
        .default(Vec::<&str>::new()),
    )
    .param(
        ParamDecl::string_list(
            "registers",
            "registered outputs as \"name: width = next value\" or \"name: width init value = next value\", updated at the clock edge",
        )
        .default(Vec::<&str>::new()),
    )
    .param(constants)
}

#[cfg(test)]
mod tests {
    use crate::{params, Testbench, TestbenchError};

    fn bench(outputs: Vec<&str>) -> Result<Testbench, TestbenchError> {
        Testbench::new(
            "expr",
            params! {
                "inputs" => vec!["a: 8", "b: 8", "op: 2"],
                "outputs" => outputs,
                "constants" => vec!["ADD = 0", "SUB = ADD + 1"],
            },
        )
    }

    #[test]
    fn registers_start_at_their_initial_values() {
        let mut tb = Testbench::new(
            "expr",
            params! {
                "inputs" => vec!["en: 1"],
                "constants" => vec!["START = 250"],
                "registers" => vec!["count: 8 init START + 3 = en ? count + 1 : count", "n: 4 = n + 1"],
            },
        )
        .unwrap();
        assert_eq!((tb.get("count"), tb.get("n")), (253, 0));
        tb.set("en", 1);
        tb.step_n(3);
        assert_eq!((tb.get("count"), tb.get("n")), (0, 3), "wraps at 8 bits");
    }

    /// Real inputs, constants, registers (with an initial value),
    /// temporaries and outputs, as a Testbench sees them.
    #[test]
    fn reals_are_ports_registers_and_temporaries() {
        let mut tb = Testbench::new(
            "expr",
            params! {
                "inputs" => vec!["x: real", "gain: 4"],
                "constants" => vec!["TAU = 4.0", "FULL = 2 * 500.0"],
                "registers" => vec!["v: real init -1.5 = v + (x - v) / TAU"],
                "outputs" => vec![
                    "let scaled: real = clamp(v * real(gain), 0, FULL)",
                    "y: real = scaled",
                    "code: 10 = bits(scaled, 10)",
                ],
            },
        )
        .unwrap();
        assert_eq!(tb.get_real("v"), -1.5);
        tb.set_real("x", 100.0);
        tb.set("gain", 3);
        assert_eq!((tb.get_real("y"), tb.get("code")), (0.0, 0), "clamped at 0");
        tb.step();
        let v = -1.5 + (100.0 + 1.5) / 4.0;
        assert_eq!(tb.get_real("v"), v);
        assert_eq!(
            (tb.get_real("y"), tb.get("code")),
            (v * 3.0, (v * 3.0) as u64)
        );
        tb.set_real("x", 1e9);
        tb.step_n(3);
        assert_eq!((tb.get_real("y"), tb.get("code")), (1000.0, 1000));
    }

    #[test]
    fn real_declarations_are_checked_where_written() {
        let err = |inputs: Vec<&str>, outputs: Vec<&str>| {
            let e = Testbench::new("expr", params! {"inputs" => inputs, "outputs" => outputs});
            e.err().expect("refused").to_string()
        };
        let e = err(vec!["x: signed real"], vec!["y: 1 = 1"]);
        assert!(e.contains("a real is signed already"), "{e}");
        let e = err(vec!["x: real"], vec!["y: 8 = x * 2"]);
        assert!(e.contains("this is a real, where bits are needed"), "{e}");
        let e = err(vec!["a: 8"], vec!["y: real = a + 1"]);
        assert!(e.contains("this is bits, where a real is needed"), "{e}");
        let e = err(vec!["x: real"], vec!["y: real = x % 2"]);
        assert!(e.contains("`%` takes bits"), "{e}");
    }

    #[test]
    fn temporaries_are_named_values_without_ports() {
        let mut tb = Testbench::new(
            "expr",
            params! {
                "inputs" => vec!["a: 8", "b: 8"],
                "outputs" => vec!["let m: 16 = a * b", "hi: 8 = m[15:8]", "let twice: 17 = m << 1", "lo: 8 = twice[8:1]"],
                "registers" => vec!["acc: 16 = acc + m"],
            },
        )
        .unwrap();
        let names: Vec<&str> = tb
            .interface()
            .outputs()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["acc", "hi", "lo"], "temporaries have no port");
        tb.set("a", 200);
        tb.set("b", 3);
        assert_eq!((tb.get("hi"), tb.get("lo")), (2, 600 & 0xff));
        tb.step();
        tb.set("a", 1);
        tb.step();
        assert_eq!(tb.get("acc"), 603, "a register reads a temporary");
        assert!(tb.try_get("m").is_err());
    }

    #[test]
    fn initial_values_are_constants_that_fit_and_only_registers_have_them() {
        let err = |registers: Vec<&str>, outputs: Vec<&str>| {
            Testbench::new(
                "expr",
                params! {"inputs" => vec!["a: 8"], "registers" => registers, "outputs" => outputs},
            )
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
        };
        let said = err(vec!["r: 8 init a = r"], vec![]);
        assert!(
            said.contains("the initial value of `r` must be a constant"),
            "{said}"
        );
        let said = err(vec!["r: 4 init 16 = r"], vec![]);
        assert!(
            said.contains("the initial value 16 of `r` does not fit in 4 bits"),
            "{said}"
        );
        let said = err(vec!["r: 4 = r"], vec!["y: 8 init 1 = a"]);
        assert!(
            said.contains("only a register has an initial value"),
            "{said}"
        );
        let said = err(vec!["let r: 4 = r"], vec![]);
        assert!(
            said.contains("only an output can be a `let` temporary"),
            "{said}"
        );
        let said = err(vec![], vec!["let t: 4 = a"]);
        assert!(said.contains("declares no output"), "{said}");
        let said = err(vec!["r: 4 init = r"], vec![]);
        assert!(said.contains("expected a value"), "{said}");
    }

    #[test]
    fn outputs_follow_their_expressions_and_widths() {
        let mut tb = bench(vec![
            "y: 8 = op == ADD ? a + b : op == SUB ? a - b : a & b",
            "carry: 1 = (a + b)[8]",
            "zero: 1 = y == 0",
        ])
        .unwrap();
        tb.set("a", 200);
        tb.set("b", 100);
        assert_eq!((tb.get("y"), tb.get("carry"), tb.get("zero")), (44, 1, 0));
        tb.set("op", 1);
        tb.set("b", 200);
        assert_eq!(
            (tb.get("y"), tb.get("zero")),
            (0, 1),
            "later outputs see earlier ones"
        );
        tb.set("op", 2);
        assert_eq!(tb.get("y"), 200);
    }

    #[test]
    fn outputs_depend_only_on_the_inputs_they_read() {
        let tb = bench(vec!["y: 8 = a + 1", "z: 8 = y + op", "k: 4 = SUB"]).unwrap();
        let deps: Vec<_> = tb
            .interface()
            .outputs()
            .iter()
            .map(|o| o.timing.clone())
            .collect();
        use crate::Timing::Combinational as C;
        assert_eq!(
            deps,
            vec![C(vec![0].into()), C(vec![0, 2].into()), C(vec![].into())]
        );
    }

    #[test]
    fn mistakes_name_the_parameter_and_the_place() {
        let cases = [
            (vec!["y: 8 = a + c"], "unknown name `c`", 11..12),
            (
                vec!["y: 8 = a +"],
                "expected a value, a name, `(` or `{`, found the end",
                10..10,
            ),
            (vec!["a: 8 = b"], "`a` is declared twice", 0..1),
            (vec!["y = a"], "expected `:` and a width, found `=`", 2..3),
            (
                vec!["y: 8 = b[9:8]"],
                "`b` has 8 bits (0..=7), so bit 9 does not exist",
                8..13,
            ),
        ];
        for (outputs, message, span) in cases {
            let Err(TestbenchError::Params { source, .. }) = bench(outputs.clone()) else {
                panic!("{outputs:?} accepted");
            };
            let crate::ParamError::InValue {
                name,
                span: at,
                message: m,
                ..
            } = *source
            else {
                panic!("{source:?}");
            };
            assert_eq!((name.as_str(), m.as_str(), at), ("outputs", message, span));
        }
        crate::test_support::assert_err_contains(bench(vec![]), "declares no output");
    }

    /// Run `ports[m]` (its outputs, its registers) as member `m` of one
    /// batch for `cycles` cycles, inputs a = 3m + 1 and b = m; every port of
    /// every member after each cycle's evaluation, as the batch computes them.
    fn batch_ports(ports: &[Ports], cycles: usize) -> Vec<u64> {
        use crate::batch::Wiring;
        use crate::model::{BuildContext, Model, Slot};
        use std::sync::atomic::Ordering::Relaxed;
        let n = ports.len();
        let per = ports[0].0.len() + ports[0].1.len();
        let mut models: Vec<Box<dyn Model>> = Vec::new();
        let mut masks = Vec::new();
        for (outputs, registers) in ports {
            let given = params! {
                "inputs" => vec!["a: 8", "b: 8"],
                "outputs" => outputs.clone(),
                "registers" => registers.clone(),
            };
            let (interface, model) = super::info()
                .build(&given, &BuildContext::new("e"))
                .unwrap();
            masks = interface.output_masks();
            models.push(model);
        }
        let mut batch = models[0].new_batch();
        for m in models {
            batch.push(m);
        }
        // Slots: every member's ports, then its two inputs. One slot per
        // port serves both parities: a tick comes after the reads of its cycle.
        let outs: Vec<u32> = (0..(n * per) as u32).collect();
        let ins: Vec<u32> = (0..(2 * n) as u32).map(|i| (n * per) as u32 + i).collect();
        let slots: Vec<Slot> = (0..n * per).map(|_| Slot::new(0)).collect();
        let slots: Vec<Slot> = slots
            .into_iter()
            .chain((0..n as u64).flat_map(|m| [Slot::new(3 * m + 1), Slot::new(m)]))
            .collect();
        let mut wiring = Wiring::new(2, masks.into());
        for m in 0..n {
            let (ins, outs) = (&ins[2 * m..][..2], &outs[per * m..][..per]);
            wiring.push([ins, ins], [outs, outs]);
        }
        let at = std::cell::Cell::new(0);
        let io = wiring.io(&slots, 0, 0, &at);
        let mut run = || {
            batch.reset(&io);
            let mut seen = Vec::new();
            for _ in 0..cycles {
                batch.eval(&io);
                seen.extend(slots[..n * per].iter().map(|s| s.load(Relaxed)));
                batch.tick(&io);
            }
            seen
        };
        let seen = run();
        assert_eq!(run(), seen, "reset starts the registers over");
        seen
    }

    /// A member's outputs and registers.
    type Ports = (Vec<String>, Vec<String>);

    /// What `ports` computes alone, in a testbench, as [`batch_ports`] for member `m`.
    fn alone(m: u64, (outputs, registers): &Ports, cycles: usize) -> Vec<Vec<u64>> {
        let mut tb = Testbench::new(
            "expr",
            params! {
                "inputs" => vec!["a: 8", "b: 8"],
                "outputs" => outputs.clone(),
                "registers" => registers.clone(),
            },
        )
        .unwrap();
        tb.set("a", 3 * m + 1);
        tb.set("b", m);
        let names: Vec<String> = registers
            .iter()
            .chain(outputs)
            .map(|t| t[..t.find(':').unwrap()].to_string())
            .collect();
        (0..cycles)
            .map(|_| {
                let row = names.iter().map(|o| tb.get(o)).collect();
                tb.step();
                row
            })
            .collect()
    }

    #[test]
    fn batches_compute_what_each_member_computes_alone() {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // Same shape, constants differing: column-wise.
        let same: Vec<Ports> = (0..9)
            .map(|m| {
                let outputs = vec![
                    format!("y: 8 = (a + {m}) ^ (b << 1) ^ acc"),
                    format!("z: 4 = y > {} ? y[7:4] : b", 40 + m),
                ];
                let registers = vec![
                    format!("acc: 8 = acc + z + a + {m}"),
                    "prev: 8 = acc".into(),
                ];
                (outputs, registers)
            })
            .collect();
        // Shapes differing: one by one.
        let mixed: Vec<Ports> = (0..9)
            .map(|m| {
                let y = if m % 2 == 0 { "a + b" } else { "a - b" };
                (
                    vec![format!("y: 8 = {y}"), "z: 4 = y".to_string()],
                    strings(&["s: 8 = s ^ y"]),
                )
            })
            .collect();
        // Registers only (a pipeline stage).
        let stages: Vec<Ports> = (0..9)
            .map(|m| (vec![], vec![format!("q: 8 = (a + {m}) ^ (q << 1)")]))
            .collect();
        for ports in [same, mixed, stages] {
            let cycles = 5;
            let batch = batch_ports(&ports, cycles);
            let per = ports[0].0.len() + ports[0].1.len();
            for (m, member) in ports.iter().enumerate() {
                let want = alone(m as u64, member, cycles);
                for (t, want) in want.iter().enumerate() {
                    let at = (t * ports.len() + m) * per;
                    assert_eq!(
                        &batch[at..at + per],
                        want.as_slice(),
                        "{member:?} cycle {t}"
                    );
                }
            }
        }
    }

    #[test]
    fn registers_take_their_next_values_together_at_the_clock_edge() {
        let mut tb = Testbench::new(
            "expr",
            params! {
                "inputs" => vec!["en: 1"],
                "registers" => vec!["a: 8 = en ? b + 1 : a", "b: 8 = en ? a : b"],
                "outputs" => vec!["sum: 8 = a + b"],
            },
        )
        .unwrap();
        let mut seen = Vec::new();
        for en in [1, 1, 1, 0, 1] {
            tb.set("en", en);
            seen.push((tb.get("a"), tb.get("b"), tb.get("sum")));
            tb.step();
        }
        seen.push((tb.get("a"), tb.get("b"), tb.get("sum")));
        // Both update from the old values: one at a time would give (1, 1) first.
        assert_eq!(
            seen,
            [
                (0, 0, 0),
                (1, 0, 1),
                (1, 1, 2),
                (2, 1, 3),
                (2, 1, 3),
                (2, 2, 4)
            ]
        );
    }

    #[test]
    fn next_values_may_read_this_cycles_outputs() {
        let mut tb = Testbench::new(
            "expr",
            params! {
                "registers" => vec!["count: 4 = wrap ? 0 : count + 1"],
                "outputs" => vec!["wrap: 1 = count == 5"],
            },
        )
        .unwrap();
        let counts: Vec<u64> = (0..8)
            .map(|_| {
                tb.step();
                tb.get("count")
            })
            .collect();
        assert_eq!(counts, [1, 2, 3, 4, 5, 0, 1, 2]);
    }

    #[test]
    fn registers_are_registered_ports_before_the_outputs() {
        let tb = Testbench::new(
            "expr",
            params! {
                "inputs" => vec!["x: 8"],
                "registers" => vec!["q: 8 = x"],
                "outputs" => vec!["y: 8 = q + 1", "z: 8 = y + x"],
            },
        )
        .unwrap();
        let ports: Vec<_> = tb
            .interface()
            .outputs()
            .iter()
            .map(|o| (o.name.as_str(), o.timing.clone()))
            .collect();
        use crate::Timing::{Combinational as C, Registered as R};
        assert_eq!(
            ports,
            [("q", R), ("y", C(vec![].into())), ("z", C(vec![0].into()))]
        );
        assert!(tb.interface().is_clocked());
    }

    #[test]
    fn register_mistakes_name_the_parameter() {
        let cases = [
            (vec!["q: 8 = q + c"], "unknown name `c`"),
            (vec!["q: 8 = 1", "q: 4 = 2"], "`q` is declared twice"),
        ];
        for (registers, message) in cases {
            let Err(TestbenchError::Params { source, .. }) =
                Testbench::new("expr", params! { "registers" => registers.clone() })
            else {
                panic!("{registers:?} accepted");
            };
            let crate::ParamError::InValue {
                name, message: m, ..
            } = *source
            else {
                panic!("{source:?}");
            };
            assert_eq!((name.as_str(), m.as_str()), ("registers", message));
        }
        let Err(TestbenchError::Params { source, .. }) = Testbench::new("expr", params! {}) else {
            panic!("an expr with no port accepted");
        };
        assert!(source.to_string().contains("no output"), "{source}");
    }
}
