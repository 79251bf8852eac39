//! The `cspsim` command; see [`cspsim::cli`].

fn main() {
    let code = cspsim::cli::main(cspsim::Registry::standard());
    cspsim::cli::flush();
    std::process::exit(code);
}
