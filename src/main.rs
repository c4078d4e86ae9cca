//! package-retention: deletes and restores GitHub Packages versions. The crate reads as its
//! stages, each a folder: `settings` (the inputs) → `run` (which drives `github`, `registry`
//! and the pure `plan`) → `outcome` (what the run produced) → `report` (published where the
//! runner reads it). `runner` holds the doors to the runner (workflow commands, Markdown,
//! redaction, files) and `model` the data every stage shares.
//!
//! Layers, lowest first; a module imports only from its own layer or lower ones (measured by
//! tests/architecture.rs): `runner`, `model` → `plan` → `github` → `registry` → `settings` →
//! `outcome` → `run` → `report` → `main`. (`settings` sits above `github`: it checks
//! `registry-url` with the client's `Origin`.)

mod github;
mod model;
mod outcome;
mod plan;
mod registry;
mod report;
mod run;
mod runner;
mod settings;

use github::client::Tuning;
use outcome::RunReport;
use runner::commands::{self, TITLE};
use runner::redact;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = |name: &str| std::env::var(name).ok();
    let settings = match settings::from_environment(&args, env) {
        Ok(Some(settings)) => settings,
        Ok(None) => {
            println!("{}", settings::usage());
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            commands::print_error(
                &format!("Invalid input `{}`", error.input),
                &error.to_string(),
            );
            return ExitCode::from(2);
        }
    };
    redact::register(&settings.token);
    commands::enable_debug(env("RUNNER_DEBUG").is_some_and(|value| value.trim() == "1"));
    let tuning = match Tuning::from_env(env) {
        Ok(tuning) => tuning,
        Err(error) => {
            commands::print_error("Invalid setting", &error.to_string());
            return ExitCode::from(2);
        }
    };
    let api_url = env("GITHUB_API_URL")
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| "https://api.github.com".to_string());
    let report = run::start(&settings, &api_url, tuning).unwrap_or_else(|error| {
        commands::print_error(TITLE, &format!("{error:#}"));
        RunReport::stopped(&settings, &error)
    });
    let published = report::publish(&report, &settings, &report::Destinations::from_env(env));
    if let Some(signal) = runner::cancel::received() {
        commands::print_error(
            TITLE,
            &format!(
                "the run was cancelled ({}): no request was sent after the signal; what it did is in the outputs, the job summary (with its Undo block) and the report file",
                runner::cancel::name(signal)
            ),
        );
        // As a shell reports a process ended by that signal.
        return ExitCode::from(128 + signal as u8);
    }
    let failed = report.stopped || (published.failed && settings.fail_on_error);
    if failed || !published.complete {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
