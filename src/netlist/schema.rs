//! The RON schema of a circuit file. Unknown fields are errors (a misspelt
//! field must not be silently ignored), and maps keep their order and their
//! duplicates so that the loader can report duplicate names.
//!
//! ```ron
//! Circuit(
//!     name: "blink",
//!     clock: Clock(period: 10, timescale: "1ns"),
//!     cycles: 20,
//!     components: {
//!         "cnt": Component(model: "counter", params: {"width": 4}),
//!     },
//!     nets: {},
//!     trace: ["*"],
//! )
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::Deserialize as DeriveDeserialize;

use crate::params::ParamValue;

/// Parse a circuit file. Optional fields are written plainly
/// (`cycles: 20`, not `cycles: Some(20)`).
pub fn parse(text: &str) -> Result<CircuitFile, ron::error::SpannedError> {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .from_str(text)
}

/// A circuit file.
#[derive(Debug, DeriveDeserialize)]
#[serde(rename = "Circuit", deny_unknown_fields)]
pub struct CircuitFile {
    /// Name (default: the file's stem).
    #[serde(default)]
    pub name: Option<String>,
    /// Clock period and trace timescale.
    #[serde(default)]
    pub clock: ClockDecl,
    /// Cycles to run unless the command line says otherwise (default 100).
    #[serde(default)]
    pub cycles: Option<u64>,
    /// Circuit parameters (name → value), usable in component parameters,
    /// array sizes and net indices; `--param NAME=VALUE` overrides them.
    #[serde(default)]
    pub params: OrderedMap<ParamValue>,
    /// Component name → model and parameters.
    pub components: OrderedMap<ComponentDecl>,
    /// Driver `comp.port` → reader `comp.port`s.
    #[serde(default)]
    pub nets: OrderedMap<Vec<String>>,
    /// Signals to trace, as glob patterns (default: `["*"]`, everything).
    #[serde(default)]
    pub trace: Option<Vec<String>>,
}

/// `Clock(period: 10, timescale: "1ns")`.
#[derive(Debug, DeriveDeserialize)]
#[serde(rename = "Clock", deny_unknown_fields)]
pub struct ClockDecl {
    /// Cycle length in timescale units.
    #[serde(default = "default_period")]
    pub period: u64,
    /// `1ns`, `10ps`, `100us`, …
    #[serde(default = "default_timescale")]
    pub timescale: String,
}

fn default_period() -> u64 {
    10
}

fn default_timescale() -> String {
    "1ns".into()
}

impl Default for ClockDecl {
    fn default() -> Self {
        ClockDecl {
            period: default_period(),
            timescale: default_timescale(),
        }
    }
}

/// `Component(model: "counter", params: {"width": 8})`.
#[derive(Debug, DeriveDeserialize)]
#[serde(rename = "Component", deny_unknown_fields)]
pub struct ComponentDecl {
    /// The model's name.
    pub model: String,
    /// An array of this many components (`name[0]` … `name[N-1]`): an
    /// integer, or an expression over the enclosing parameters.
    #[serde(default)]
    pub count: Option<ParamValue>,
    /// Parameter name → value.
    #[serde(default)]
    pub params: OrderedMap<ParamValue>,
}

/// A composite model: a sub-circuit with its own ports and parameters.
///
/// ```ron
/// Model(
///     doc: "an n-stage shift register of width-bit words, every stage an output",
///     params: {"n": 4, "width": 8},
///     inputs: {"d": ["r[0].d"]},
///     outputs: {"q[n]": "r[i].q"},
///     components: {"r": Component(model: "register", count: "n", params: {"width": "${width}"})},
///     nets: {"r[0..n-1].q": ["r[i+1].d"]},
/// )
/// ```
///
/// (A test loads both examples of this file.)
#[derive(Debug, DeriveDeserialize)]
#[serde(rename = "Model", deny_unknown_fields)]
pub struct ModelFile {
    /// One line for `cspsim models` and `describe`.
    #[serde(default)]
    pub doc: Option<String>,
    /// Parameters with their defaults (every parameter has one; its kind
    /// fixes what values are accepted).
    #[serde(default)]
    pub params: OrderedMap<ParamValue>,
    /// Input port (`name` or `name[N]`) → the inner inputs it drives.
    #[serde(default)]
    pub inputs: OrderedMap<Vec<String>>,
    /// Output port (`name` or `name[N]`) → the inner output that drives it.
    #[serde(default)]
    pub outputs: OrderedMap<String>,
    /// Inner components, as in a circuit.
    pub components: OrderedMap<ComponentDecl>,
    /// Inner nets, as in a circuit.
    #[serde(default)]
    pub nets: OrderedMap<Vec<String>>,
}

/// Parse a composite model file.
pub fn parse_model(text: &str) -> Result<ModelFile, ron::error::SpannedError> {
    ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .from_str(text)
}

/// A map with string keys that keeps file order and duplicate keys.
#[derive(Debug)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map with string keys")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(OrderedMap(entries))
            }
        }
        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_example_parses() {
        let src = r#"Circuit(
            name: "blink",
            clock: Clock(period: 10, timescale: "1ns"),
            cycles: 20,
            components: { "cnt": Component(model: "counter", params: {"width": 4}) },
            nets: {},
            trace: ["*"],
        )"#;
        let c = parse(src).unwrap();
        assert_eq!(c.components.0[0].0, "cnt");
        assert_eq!(c.cycles, Some(20));
    }

    #[test]
    fn struct_names_are_optional_and_maps_keep_duplicates() {
        let c = parse(r#"(components: {"a": (model: "x"), "a": (model: "y")})"#).unwrap();
        assert_eq!(c.components.0.len(), 2);
        assert_eq!(c.clock.period, 10);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let e = parse(r#"(components: {}, cycle: 3)"#).unwrap_err();
        assert!(e.to_string().contains("cycle"), "{e}");
    }

    /// The RON examples in this file's documentation load: the circuit as
    /// it is, the model through a circuit that uses it.
    #[test]
    fn the_documented_examples_load() {
        let source = include_str!("schema.rs");
        let mut blocks: Vec<String> = Vec::new();
        let mut current: Option<String> = None;
        for line in source.lines() {
            let doc = line.trim_start();
            let Some(text) = doc.strip_prefix("//! ").or(doc.strip_prefix("/// ")) else {
                continue;
            };
            match (&mut current, text.trim()) {
                (None, "```ron") => current = Some(String::new()),
                (Some(block), "```") => {
                    blocks.push(std::mem::take(block));
                    current = None;
                }
                (Some(block), _) => {
                    block.push_str(text);
                    block.push('\n');
                }
                (None, _) => {}
            }
        }
        assert_eq!(blocks.len(), 2, "a circuit and a model");
        let registry = crate::Registry::standard();
        crate::netlist::load_str(&blocks[0], "blink.ron", None, &registry, 0)
            .unwrap_or_else(|e| panic!("{e}"));
        let scratch = crate::test_support::scratch("cspsim-schema-doc");
        let dir = scratch.0.clone();
        std::fs::create_dir_all(dir.join("models")).unwrap();
        std::fs::write(dir.join("models/shift.ron"), &blocks[1]).unwrap();
        let circuit = dir.join("uses.ron");
        std::fs::write(
            &circuit,
            r#"Circuit(components: {"src": Component(model: "counter", params: {"width": 8}), "s": Component(model: "shift")}, nets: {"src.q": ["s.d"]})"#,
        )
        .unwrap();
        let loaded =
            crate::netlist::load_file(&circuit, &registry, 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.components.len(), 5);
    }
}
