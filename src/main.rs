//! package-retention: deletes and restores GitHub Packages versions. The data flows
//! inputs → policy → listing → plan → execution → report; `run` drives it.

mod client;
mod commands;
mod execute;
mod graph;
mod inputs;
mod listing;
mod markdown;
mod model;
mod plan;
mod policy;
mod redact;
mod registry;
mod report;
mod run;

use inputs::{Invocation, RawInputs};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = |name: &str| std::env::var(name).ok();
    let raw = match RawInputs::from_environment(&args, env) {
        Ok(Invocation::Run(raw)) => raw,
        Ok(Invocation::Help) => {
            println!("{}", inputs::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(error) => return bad_input(&error),
    };
    let settings = match raw.into_settings(|path| std::fs::read_to_string(path).ok()) {
        Ok(settings) => settings,
        Err(error) => return bad_input(&error),
    };
    redact::register(&settings.token);
    let tuning = match client::Tuning::from_env(env) {
        Ok(tuning) => tuning,
        Err(error) => {
            commands::print_error("Invalid setting", &error.to_string());
            return ExitCode::from(2);
        }
    };
    let result = if settings.versions_file.is_some() {
        run::plan_offline(&settings)
    } else {
        let api_url = env("GITHUB_API_URL")
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| "https://api.github.com".to_string());
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| runtime.block_on(run::run(&settings, &api_url, tuning)))
    };
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            commands::print_error(commands::TITLE, &format!("{error:#}"));
            // Every output is written on every run: a run that stops here changed nothing.
            let nothing = run::RunReport {
                mode: settings.mode,
                dry_run: settings.dry_run,
                offline: settings.versions_file.is_some(),
                packages: Vec::new(),
                warnings: Vec::new(),
                budget_remaining: None,
                counters: Default::default(),
            };
            if let Some(path) = env("GITHUB_OUTPUT").filter(|p| !p.is_empty()) {
                let _ = report::Tally::new(&nothing).emit_outputs(Some(&path));
            }
            return ExitCode::FAILURE;
        }
    };
    let tally = report::Tally::new(&report);
    tally.log().print();
    let output_path = env("GITHUB_OUTPUT").filter(|p| !p.is_empty());
    match tally.emit_outputs(output_path.as_deref()) {
        Ok(()) => {}
        Err(error) => {
            commands::print_error(
                commands::TITLE,
                &format!("cannot write GITHUB_OUTPUT: {error}"),
            );
            return ExitCode::FAILURE;
        }
    }
    let summary = tally.summary(model::now(), &web_origin(env));
    match env("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        Some(path) => {
            if let Err(error) = report::append(&path, &summary) {
                commands::print_warning(
                    commands::TITLE,
                    &format!("cannot write GITHUB_STEP_SUMMARY: {error}"),
                );
            }
        }
        None => print!("\n{summary}"),
    }
    let failed = tally.failed_count() > 0 || tally.problems().next().is_some();
    if failed && settings.fail_on_error {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn bad_input(error: &inputs::InputError) -> ExitCode {
    commands::print_error(
        &format!("Invalid input `{}`", error.input),
        &error.to_string(),
    );
    ExitCode::from(2)
}

/// The GitHub web host, the only host the summary links to: the runner's `GITHUB_SERVER_URL`,
/// else `https://github.com`.
fn web_origin(env: impl Fn(&str) -> Option<String>) -> String {
    env("GITHUB_SERVER_URL")
        .map(|url| url.trim().trim_end_matches('/').to_string())
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "https://github.com".to_string())
}
