//! The text of `fmp --help`, generated from clap's command: each command's usage line and
//! summary, then its flags, one line each (`--width W`, what the value must be, its default and
//! remarks: the flag's `help`, which starts with what its value parser expects, see
//! [`super::args::Expect::help`]), then the rules for CSV files and the exit codes.

use crate::limits;

/// The usage text of the clap command `cmd` (the whole command line).
pub(super) fn usage(cmd: &clap::Command) -> String {
    let subs: Vec<&clap::Command> = cmd.get_subcommands().collect();
    let mut s = String::new();
    for (i, sub) in subs.iter().enumerate() {
        let lead = if i == 0 { "usage: " } else { "       " };
        let line = sub
            .get_overridden_usage()
            .map_or_else(|| format!("fmp {}", sub.get_name()), |u| u.to_string());
        s.push_str(&format!("{lead}{line}\n"));
    }
    s.push_str("       fmp --help\n");
    for sub in &subs {
        let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
        s.push_str(&format!("{}: {about}\n", sub.get_name()));
    }
    for sub in &subs {
        s.push_str(&format!("\n{} flags:\n", sub.get_name()));
        for arg in sub.get_arguments() {
            let head = match arg.get_value_names() {
                Some([meta, ..]) if arg.get_action().takes_values() => {
                    format!("{} {meta}", flag_name(arg))
                }
                _ => flag_name(arg),
            };
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            s.push_str(&format!("  {head:<24} {help}\n"));
        }
    }
    s.push_str(&format!(
        "\nCSV files: x,y per line (optional header), UTF-8, at most {} bytes, coordinates \
         finite and within +-{}.\nTraining stops with an error when a loss is not finite or the \
         mean loss of {} steps exceeds {}.\nExit status: 0 success, 1 training diverged, 2 bad \
         argument or input (one line on stderr).\n",
        limits::MAX_FILE_BYTES,
        limits::format_number(limits::MAX_COORD),
        limits::DIVERGENCE_WINDOW,
        limits::format_number(limits::DIVERGED_LOSS),
    ));
    s
}

/// The flag as typed: `--width`.
pub(super) fn flag_name(arg: &clap::Arg) -> String {
    arg.get_long()
        .map_or_else(|| arg.get_id().to_string(), |l| format!("--{l}"))
}

/// What the flag's value must be: its help up to the first `; ` (`an integer in 4..=512`).
pub(super) fn expects(arg: &clap::Arg) -> String {
    let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
    help.split("; ").next().unwrap_or_default().to_string()
}
