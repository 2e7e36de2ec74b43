//! The `pimlab` binary: a thin wrapper over the library's command line.

fn main() {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    if let Err(e) = pimlab::cli::fit_tables(std::env::var("PIMLAB_WIDTH").ok().as_deref()) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    let code = pimlab::cli::run(std::env::args_os(), &mut stdout.lock(), &mut stderr.lock());
    std::process::exit(code);
}
