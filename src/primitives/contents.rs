//! Initial contents of memories: an inline `init` list or a `file` of hex
//! words (whitespace-separated, `//` and `#` comments, like `$readmemh`) or,
//! for a `.ron` file, a RON list of integers.

use crate::model::BuildContext;
use crate::params::{ParamDecl, ParamError, Params};
use crate::value::mask;

/// The `init` and `file` parameter declarations.
pub fn decls() -> [ParamDecl; 2] {
    [
        ParamDecl::int_list(
            "init",
            i64::MIN.into(),
            u64::MAX.into(),
            "initial words, from address 0",
        )
        .default(Vec::<i64>::new()),
        ParamDecl::string(
            "file",
            "file of initial words: hex, or a RON list if it ends in .ron",
        )
        .default(""),
    ]
}

/// `depth` words of `width` bits: the given contents, then zeros.
pub fn load(
    p: &Params,
    ctx: &BuildContext,
    width: u32,
    depth: usize,
) -> Result<Vec<u64>, ParamError> {
    let inline = p.int_list("init")?;
    let file = p.str("file")?;
    let words: Vec<i128> = match (inline.is_empty(), file.is_empty()) {
        (_, true) => inline,
        (true, false) => read_file(&ctx.resolve(file))?,
        (false, false) => {
            return Err(ParamError::invalid(
                "file",
                "give `init` or `file`, not both",
            ))
        }
    };
    if words.len() > depth {
        return Err(ParamError::invalid(
            "init",
            format!("{} words do not fit in a depth of {depth}", words.len()),
        ));
    }
    let limit = 1i128 << width;
    let mut memory = vec![0; depth];
    for (a, &w) in words.iter().enumerate() {
        if w >= limit || w < -(limit / 2) {
            return Err(ParamError::invalid(
                "init",
                format!("word {a} ({w}) does not fit in {width} bits"),
            ));
        }
        memory[a] = (w as u64) & mask(width);
    }
    Ok(memory)
}

pub(crate) fn read_file(path: &std::path::Path) -> Result<Vec<i128>, ParamError> {
    let text = crate::netlist::text::read_text(path)
        .map_err(|e| ParamError::invalid("file", format!("cannot read {}: {e}", path.display())))?;
    if path.extension().is_some_and(|e| e == "ron") {
        let values = ron::from_str::<Vec<crate::ParamValue>>(&text)
            .map_err(|e| ParamError::invalid("file", format!("{}:{e}", path.display())))?;
        return values
            .into_iter()
            .map(|v| match v {
                crate::ParamValue::Int(i) => Ok(i),
                other => Err(ParamError::invalid(
                    "file",
                    format!(
                        "{} holds {}, not an integer",
                        path.display(),
                        other.kind_name()
                    ),
                )),
            })
            .collect();
    }
    let mut words = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line
            .split("//")
            .next()
            .unwrap_or("")
            .split('#')
            .next()
            .unwrap_or("");
        for word in line.split_whitespace() {
            let digits = word.trim_start_matches("0x").replace('_', "");
            let value = u64::from_str_radix(&digits, 16).map_err(|_| {
                ParamError::invalid(
                    "file",
                    format!("{}:{}: `{word}` is not a hex word", path.display(), n + 1),
                )
            })?;
            words.push(i128::from(value));
        }
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(init: Vec<i64>, file: &str) -> Params {
        let given = crate::params! { "init" => init, "file" => file };
        Params::resolve(&decls(), &given).unwrap()
    }

    #[test]
    fn inline_and_file_contents() {
        let ctx = BuildContext::new("m");
        assert_eq!(
            load(&params(vec![1, 2], ""), &ctx, 8, 4).unwrap(),
            vec![1, 2, 0, 0]
        );
        let scratch = crate::test_support::scratch("cspsim-contents");
        let dir = scratch.0.clone();
        std::fs::write(dir.join("m.hex"), "// header\nff 0x10\n a_b # note\n").unwrap();
        std::fs::write(dir.join("m.ron"), "[3, 4]").unwrap();
        let ctx = BuildContext {
            dir: Some(dir.clone()),
            ..BuildContext::new("m")
        };
        assert_eq!(
            load(&params(vec![], "m.hex"), &ctx, 16, 4).unwrap(),
            vec![0xff, 0x10, 0xab, 0]
        );
        assert_eq!(
            load(&params(vec![], "m.ron"), &ctx, 16, 2).unwrap(),
            vec![3, 4]
        );
        std::fs::write(dir.join("bad.hex"), "12\nzz\n").unwrap();
        let e = load(&params(vec![], "bad.hex"), &ctx, 8, 4)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.hex:2: `zz` is not a hex word"), "{e}");
    }

    #[test]
    fn contents_must_fit() {
        let ctx = BuildContext::new("m");
        crate::test_support::assert_err_contains(
            load(&params(vec![1, 2, 3], ""), &ctx, 8, 2),
            "3 words do not fit in a depth of 2",
        );
        crate::test_support::assert_err_contains(
            load(&params(vec![256], ""), &ctx, 8, 2),
            "word 0 (256) does not fit in 8 bits",
        );
        crate::test_support::assert_err_contains(
            load(&params(vec![1], "x.hex"), &ctx, 8, 2),
            "give `init` or `file`, not both",
        );
        crate::test_support::assert_err_contains(
            load(&params(vec![], "/no/such.hex"), &ctx, 8, 2),
            "cannot read /no/such.hex",
        );
    }
}
