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
        (true, false) => read_file(&ctx.resolve(file), depth)?,
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

/// `text` with its `/* … */` comments blanked out, lines kept (so that
/// messages still give the right line).
fn without_block_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let (comment, next) = match after.find("*/") {
            Some(end) => (&after[..end], &after[end + 2..]),
            None => (after, ""),
        };
        out.extend(comment.chars().filter(|&c| c == '\n'));
        out.push(' ');
        rest = next;
    }
    out.push_str(rest);
    out
}

/// The words of a memory file: a RON list if the name ends in `.ron`, else
/// hex words as `$readmemh` reads them (`//`, `/* */` and `#` comments, `_`
/// separators, `@addr` moving the next word's address; words skipped over
/// are 0). An address must be below `room`, the words the reader can hold
/// (a memory's depth), so that a stray `@` allocates nothing large.
pub(crate) fn read_file(path: &std::path::Path, room: usize) -> Result<Vec<i128>, ParamError> {
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
    let mut words: Vec<i128> = Vec::new();
    // The next address a word goes to; `@addr` moves it, as in `$readmemh`.
    let mut at = 0usize;
    let text = without_block_comments(&text);
    for (n, line) in text.lines().enumerate() {
        let line = line
            .split("//")
            .next()
            .unwrap_or("")
            .split('#')
            .next()
            .unwrap_or("");
        let place = || format!("{}:{}", path.display(), n + 1);
        for word in line.split_whitespace() {
            if let Some(address) = word.strip_prefix('@') {
                at = usize::from_str_radix(&address.replace('_', ""), 16)
                    .ok()
                    .filter(|&a| a < room)
                    .ok_or_else(|| {
                        ParamError::invalid(
                            "file",
                            format!(
                                "{}: `{word}` is not an address here (hex, below {room:#x})",
                                place()
                            ),
                        )
                    })?;
                continue;
            }
            let digits = word.trim_start_matches("0x").replace('_', "");
            let value = u64::from_str_radix(&digits, 16).map_err(|_| {
                ParamError::invalid("file", format!("{}: `{word}` is not a hex word", place()))
            })?;
            if at >= words.len() {
                words.resize(at + 1, 0);
            }
            words[at] = i128::from(value);
            at += 1;
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

    /// `$readmemh` files: `@addr` jumps (forward and back), `_` in words and
    /// addresses, block comments over lines; a bad address says where.
    #[test]
    fn hex_files_in_readmemh_form() {
        let scratch = crate::test_support::scratch("cspsim-readmemh");
        let dir = scratch.0.clone();
        std::fs::write(
            dir.join("m.hex"),
            "/* a header\n over two lines */ 0a 0b\n@4 1_0 11 // a note\n@1 ff\n@0_6 0x7\n",
        )
        .unwrap();
        std::fs::write(dir.join("bad.hex"), "1\n/* x */\n@zz 2\n").unwrap();
        std::fs::write(dir.join("far.hex"), "@ffffffff 1\n").unwrap();
        let ctx = BuildContext {
            dir: Some(dir.clone()),
            ..BuildContext::new("m")
        };
        assert_eq!(
            load(&params(vec![], "m.hex"), &ctx, 16, 8).unwrap(),
            vec![0x0a, 0xff, 0, 0, 0x10, 0x11, 0x7, 0]
        );
        crate::test_support::assert_err_contains(
            load(&params(vec![], "bad.hex"), &ctx, 8, 4),
            "bad.hex:3: `@zz` is not an address here",
        );
        crate::test_support::assert_err_contains(
            load(&params(vec![], "far.hex"), &ctx, 8, 4),
            "`@ffffffff` is not an address here (hex, below 0x4)",
        );
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
