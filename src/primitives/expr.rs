//! `expr`: combinational logic written as expressions over named inputs —
//! one component instead of a tangle of gates, and cheaper to simulate.

use crate::batch::BatchIo;
use crate::expr::columns::Columns;
use crate::expr::parse::{declaration, Shape};
use crate::expr::{Program, Scope};
use crate::model::{Interface, Io, Model, ModelInfo};
use crate::params::{ParamDecl, ParamError, Params};
use crate::value::{mask, PortType};

struct Expr {
    programs: Vec<Program>,
    masks: Vec<u64>,
    /// This cycle's output values, readable by later outputs.
    locals: Vec<u64>,
    inputs: usize,
    /// How the batch this component leads runs (kept by a batch's first member).
    plan: Option<Plan>,
}

/// Fewer members than this run one by one: columns would not pay.
const MIN_COLUMNS: usize = 4;

/// How a batch of `expr` components runs, decided at its first evaluation.
struct Plan {
    members: usize,
    /// `None` when the members' expressions differ in shape: one by one.
    columns: Option<Box<ColumnPlan>>,
}

/// A batch whose members share their expressions' shape, run column-wise
/// (see [`crate::expr::columns`]).
struct ColumnPlan {
    outputs: Vec<Columns>,
    masks: Vec<u64>,
    /// The inputs any expression reads.
    read: Vec<usize>,
    /// `inputs[i][m]`: member `m`'s input `i` this cycle.
    inputs: Vec<Vec<u64>>,
    /// `results[k][m]`: member `m`'s output `k` this cycle.
    results: Vec<Vec<u64>>,
}

impl ColumnPlan {
    fn new(batch: &[Expr]) -> Option<Box<Self>> {
        let first = batch.first()?;
        let n = batch.len();
        let outputs = (0..first.programs.len())
            .map(|k| {
                let programs: Vec<&Program> = batch.iter().map(|e| &e.programs[k]).collect();
                Columns::new(&programs)
            })
            .collect::<Option<Vec<_>>>()?;
        let read = (0..first.inputs)
            .filter(|&i| first.programs.iter().any(|p| p.reads_input(i)))
            .collect();
        Some(Box::new(ColumnPlan {
            outputs,
            masks: first.masks.clone(),
            read,
            inputs: vec![vec![0; n]; first.inputs],
            results: vec![vec![0; n]; first.programs.len()],
        }))
    }

    fn eval(&mut self, io: &BatchIo<'_>) {
        for &i in &self.read {
            for (v, x) in self.inputs[i].iter_mut().zip(io.input_column(i)) {
                *v = x;
            }
        }
        for (k, columns) in self.outputs.iter_mut().enumerate() {
            let (earlier, rest) = self.results.split_at_mut(k);
            let out = &mut rest[0];
            columns.eval(&self.inputs, earlier, out, self.masks[k]);
            io.set_output_column(k, out);
        }
    }
}

impl Model for Expr {
    fn reset(&mut self, _io: &Io<'_>) {}

    /// Members with expressions of one shape run column-wise; others one by one.
    fn eval_batch(batch: &mut [Self], io: &BatchIo<'_>) {
        let n = batch.len();
        if n >= MIN_COLUMNS {
            if batch[0].plan.as_ref().is_none_or(|p| p.members != n) {
                let columns = ColumnPlan::new(batch);
                batch[0].plan = Some(Plan {
                    members: n,
                    columns,
                });
            }
            if let Some(Plan {
                columns: Some(plan),
                ..
            }) = &mut batch[0].plan
            {
                plan.eval(io);
                return;
            }
        }
        for (k, m) in batch.iter_mut().enumerate() {
            m.eval(&io.member(k));
        }
    }

    #[inline(always)]
    fn eval(&mut self, io: &Io<'_>) {
        for (k, program) in self.programs.iter().enumerate() {
            let value = program.eval(|i| io.get(i), &self.locals) & self.masks[k];
            self.locals[k] = value;
            io.set(k, value);
        }
    }
}

/// The `inputs` and `constants` parameters as a scope, and the input ports.
/// Shared with `assert`.
pub(crate) fn input_scope(p: &Params) -> Result<(Scope, Vec<(String, u32)>), ParamError> {
    let mut scope = Scope::new();
    let mut ports = Vec::new();
    for text in p.str_list("constants")? {
        let at = |e| ParamError::in_value("constants", text, e);
        let d = declaration(text, Shape::Constant).map_err(at)?;
        unique(&scope, &d.name, d.name_span.clone()).map_err(at)?;
        let value = d.value.expect("a constant has a value");
        let program = Program::from_node(&value, &scope).map_err(at)?;
        let Some(v) = program.constant() else {
            unreachable!("constants see only constants")
        };
        scope.constant(&d.name, v);
    }
    for text in p.str_list("inputs")? {
        let at = |e| ParamError::in_value("inputs", text, e);
        let d = declaration(text, Shape::Port).map_err(at)?;
        unique(&scope, &d.name, d.name_span.clone()).map_err(at)?;
        scope.input(&d.name, d.width);
        ports.push((d.name, d.width));
    }
    Ok((scope, ports))
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
            "input ports as \"name: width\" (Bits, 1..=64), in port order",
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
        "combinational outputs given as expressions",
        |p, _| {
            let (mut scope, input_ports) = input_scope(p)?;
            let mut ports = Interface::new();
            for (name, width) in &input_ports {
                ports = ports.input(name.clone(), PortType::Bits(*width as u8));
            }
            let mut programs: Vec<Program> = Vec::new();
            let mut masks = Vec::new();
            // Inputs each output reads, directly or through earlier outputs.
            let mut reads: Vec<Vec<usize>> = Vec::new();
            let outputs = p.str_list("outputs")?;
            if outputs.is_empty() {
                return Err(ParamError::invalid("outputs", "declares no output"));
            }
            for text in outputs {
                let at = |e| ParamError::in_value("outputs", text, e);
                let d = declaration(text, Shape::Definition).map_err(at)?;
                unique(&scope, &d.name, d.name_span.clone()).map_err(at)?;
                let value = d.value.expect("a definition has a value");
                let program = Program::from_node(&value, &scope).map_err(at)?;
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
                ports = ports.combinational_on(
                    d.name.clone(),
                    PortType::Bits(d.width as u8),
                    deps.clone(),
                );
                scope.local(&d.name, d.width);
                reads.push(deps);
                masks.push(mask(d.width));
                programs.push(program);
            }
            let n = programs.len();
            Ok((
                ports,
                Box::new(Expr {
                    programs,
                    masks,
                    locals: vec![0; n],
                    inputs: input_ports.len(),
                    plan: None,
                }),
            ))
        },
    )
    .doc(
        "Inputs: as declared by `inputs`, e.g. [\"a: 8\", \"b: 8\", \"op: 2\"].\n\
         Outputs: as declared by `outputs`, each \"name: width = expression\", e.g.\n\
         [\"y: 8 = op == 0 ? a + b : a - b\", \"zero: 1 = y == 0\"]; all combinational.\n\
         Expressions use the inputs, the `constants` and earlier outputs, with C/Verilog\n\
         operators: ?: || && | ^ & == != < <= > >= << >> + - * / % and unary ~ ! -, bit\n\
         slices a[7:4] and a[0], numbers in decimal, 0x hex or 0b binary. Arithmetic is\n\
         unsigned and wraps at 64 bits; comparisons give 0 or 1; x/0 and x%0 give 0;\n\
         each result is masked to its output's width. Parsed and checked once, when the\n\
         circuit is loaded (errors point into the expression); evaluated without re-parsing.",
    )
    .param(inputs)
    .param(ParamDecl::string_list(
        "outputs",
        "output ports as \"name: width = expression\", computed in order",
    ))
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
        assert_eq!(deps, vec![C(vec![0]), C(vec![0, 2]), C(vec![])]);
    }

    #[test]
    fn mistakes_name_the_parameter_and_the_place() {
        let cases = [
            (vec!["y: 8 = a + c"], "unknown name `c`", 11..12),
            (
                vec!["y: 8 = a +"],
                "expected a value, a name or `(`, found the end",
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
        assert!(bench(vec![]).is_err(), "an expr needs an output");
    }

    /// Run `outputs[m]` as member `m` of one batch, inputs a = 3m + 1 and
    /// b = m; the outputs as the batch computes them, member after member.
    fn batch_outputs(outputs: &[Vec<String>]) -> Vec<u64> {
        use crate::batch::Wiring;
        use crate::model::{BuildContext, Model, Slot};
        use std::sync::atomic::Ordering::Relaxed;
        let n = outputs.len();
        let per = outputs[0].len();
        let mut models: Vec<Box<dyn Model>> = Vec::new();
        let mut masks = Vec::new();
        for texts in outputs {
            let given = params! { "inputs" => vec!["a: 8", "b: 8"], "outputs" => texts.clone() };
            let (ports, model) = super::info()
                .build(&given, &BuildContext::new("e"))
                .unwrap();
            masks = ports.output_masks();
            models.push(model);
        }
        let mut batch = models[0].new_batch();
        for m in models {
            batch.push(m);
        }
        // Slots: every member's outputs, then its two inputs.
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
        batch.eval(&wiring.io(&slots, 0, 0, &at));
        slots[..n * per].iter().map(|s| s.load(Relaxed)).collect()
    }

    #[test]
    fn batches_compute_what_each_member_computes_alone() {
        let one = |m: u64, texts: &[String]| -> Vec<u64> {
            let mut tb = bench(texts.iter().map(String::as_str).collect()).unwrap();
            tb.set("a", 3 * m + 1);
            tb.set("b", m);
            let names: Vec<String> = texts.iter().map(|t| t[..1].to_string()).collect();
            names.iter().map(|o| tb.get(o)).collect()
        };
        // Same shape, constants differing: column-wise.
        let same: Vec<Vec<String>> = (0..9)
            .map(|m| {
                vec![
                    format!("y: 8 = (a + {m}) ^ (b << 1)"),
                    format!("z: 4 = y > {} ? y[7:4] : b", 40 + m),
                ]
            })
            .collect();
        // Shapes differing: one by one.
        let mixed: Vec<Vec<String>> = (0..9)
            .map(|m| {
                let y = if m % 2 == 0 { "a + b" } else { "a - b" };
                vec![format!("y: 8 = {y}"), "z: 4 = y".to_string()]
            })
            .collect();
        for outputs in [same, mixed] {
            let want: Vec<u64> = outputs
                .iter()
                .enumerate()
                .flat_map(|(m, texts)| one(m as u64, texts))
                .collect();
            assert_eq!(batch_outputs(&outputs), want, "{outputs:?}");
        }
    }
}
