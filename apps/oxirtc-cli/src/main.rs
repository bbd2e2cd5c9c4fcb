//! The `oxirtc` binary: a thin shell over `oxirtc_cli::run`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    use clap::Parser as _;
    let cli = oxirtc_cli::Cli::parse();
    match oxirtc_cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The message may quote the peer (names, reasons): no terminal controls or bidi tricks.
            eprintln!(
                "error: {}",
                oxirtc_cli::term_safe::escape_keep_lines(&format!("{e:#}"))
            );
            ExitCode::FAILURE
        }
    }
}
