//! The `pimlab` binary: a thin wrapper over the library's command line.

fn main() {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let code = pimlab::cli::run(std::env::args_os(), &mut stdout.lock(), &mut stderr.lock());
    std::process::exit(code);
}
