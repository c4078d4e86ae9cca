//! package-retention: deletes and restores GitHub Packages versions. The data flows
//! inputs → policy → listing → plan → execution → report; `run` drives it.

mod github;
mod model;
mod outcome;
mod plan;
mod registry;
mod report;
mod run;
mod runner;
mod settings;

use runner::{commands, redact};
use settings::{Invocation, RawInputs};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = |name: &str| std::env::var(name).ok();
    let raw = match RawInputs::from_environment(&args, env) {
        Ok(Invocation::Run(raw)) => raw,
        Ok(Invocation::Help) => {
            println!("{}", settings::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(error) => return bad_input(&error),
    };
    let settings = match raw.into_settings(settings::read_config_file) {
        Ok(settings) => settings,
        Err(error) => return bad_input(&error),
    };
    redact::register(&settings.token);
    commands::enable_debug(env("RUNNER_DEBUG").is_some_and(|value| value.trim() == "1"));
    let tuning = match github::client::Tuning::from_env(env) {
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
    let report_file = ReportFile::of(&settings);
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            commands::print_error(commands::TITLE, &format!("{error:#}"));
            // Every output is written on every run: a run that stops here changed nothing. The
            // report file and the summary say why it stopped.
            let nothing = outcome::RunReport {
                mode: settings.mode,
                dry_run: settings.dry_run,
                offline: settings.versions_file.is_some(),
                packages: Vec::new(),
                warnings: vec![format!(
                    "the run stopped before it changed anything: {error:#}"
                )],
                notes: Vec::new(),
                budget_remaining: None,
                counters: Default::default(),
                manifests: None,
            };
            let tally = report::Tally::new(&nothing);
            let written = report_file.and_then(|file| file.write(&tally));
            let tally = tally.with_report_file(written);
            if let Some(path) = env("GITHUB_OUTPUT").filter(|p| !p.is_empty()) {
                let _ = tally.emit_outputs(Some(&path));
            }
            if let Some(path) = env("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
                let action = report::undo_action(None, None);
                let summary = tally.summary(&report::SummaryContext {
                    now: model::now(),
                    web: &web_origin(env),
                    action: &action,
                    charts: false,
                });
                let _ = report::append(&path, &summary);
            }
            return ExitCode::FAILURE;
        }
    };
    let tally = report::Tally::new(&report);
    tally.log().print();
    let mut broken = false;
    let written = report_file.and_then(|file| {
        let written = file.write(&tally);
        broken |= written.is_none();
        written
    });
    let tally = tally.with_report_file(written);
    let output_path = env("GITHUB_OUTPUT").filter(|p| !p.is_empty());
    match tally.emit_outputs(output_path.as_deref()) {
        Ok(cuts) => {
            for cut in cuts {
                let whole = match tally.report_file() {
                    Some(path) => format!("the report file `{path}` holds all of them"),
                    None => "set the `report-file` input to keep all of them".to_string(),
                };
                commands::print_warning(
                    commands::TITLE,
                    &format!(
                        "output `{}` holds the first {} of {} entries: GitHub refuses a step output over 1 MiB, so it stops at 1,000,000 bytes (output `truncated` is true); {whole}",
                        cut.output, cut.kept, cut.total
                    ),
                );
            }
        }
        Err(error) => {
            broken = true;
            commands::print_error(
                commands::TITLE,
                &format!("cannot write GITHUB_OUTPUT: {error}. Every version id changed follows, and the job summary has them too"),
            );
            tally.changed_ids_log().print();
        }
    }
    let summary_path = env("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty());
    let action = report::undo_action(
        env("GITHUB_ACTION_REPOSITORY").as_deref(),
        env("GITHUB_ACTION_REF").as_deref(),
    );
    let summary = tally.summary(&report::SummaryContext {
        now: model::now(),
        web: &web_origin(env),
        action: &action,
        // Charts are drawn in the job summary; a summary printed to the log goes without them.
        charts: summary_path.is_some(),
    });
    match summary_path {
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
    if broken || (failed && settings.fail_on_error) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The `report-file` input: where it goes on disk, and how the workflow names it.
struct ReportFile {
    /// In the workspace (`GITHUB_WORKSPACE`, else the current directory).
    on_disk: PathBuf,
    /// As given: relative to the workspace, which is how later steps (outside the container)
    /// find it.
    named: String,
}

impl ReportFile {
    fn of(settings: &settings::Settings) -> Option<ReportFile> {
        let relative = settings.report_file.as_ref()?;
        Some(ReportFile {
            on_disk: settings.workspace.join(relative),
            named: relative.display().to_string(),
        })
    }

    /// Writes the report; its name when written, else an error annotation and `None`.
    fn write(self, tally: &report::Tally) -> Option<String> {
        match tally.write_report_file(&self.on_disk) {
            Ok(()) => Some(self.named),
            Err(error) => {
                commands::print_error(
                    commands::TITLE,
                    &format!("cannot write report-file `{}`: {error}", self.named),
                );
                None
            }
        }
    }
}

fn bad_input(error: &settings::InputError) -> ExitCode {
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
