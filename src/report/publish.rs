//! Publishing a run where the runner reads it: the log, the report file, the step outputs and
//! the job summary, each written once, for a run that went through and for one that stopped
//! before it changed anything alike.

use super::{append, undo_action, SummaryContext, Tally};
use crate::model;
use crate::outcome::RunReport;
use crate::runner::commands::{self, TITLE};
use crate::settings::Settings;
use std::path::PathBuf;

/// Where the runner reads what a run tells, from its environment.
pub struct Destinations {
    /// `GITHUB_OUTPUT`; without it, the outputs are printed.
    pub output: Option<String>,
    /// `GITHUB_STEP_SUMMARY`; without it, the summary is printed (without charts).
    pub summary: Option<String>,
    /// The GitHub web host, the only host the summary links to: `GITHUB_SERVER_URL`, else
    /// `https://github.com`.
    pub web: String,
    /// The Undo block's `uses:` (see [`undo_action`]).
    pub action: String,
}

impl Destinations {
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Destinations {
        let path = |name: &str| env(name).filter(|p| !p.is_empty());
        Destinations {
            output: path("GITHUB_OUTPUT"),
            summary: path("GITHUB_STEP_SUMMARY"),
            web: env("GITHUB_SERVER_URL")
                .map(|url| url.trim().trim_end_matches('/').to_string())
                .filter(|url| !url.is_empty())
                .unwrap_or_else(|| "https://github.com".to_string()),
            action: undo_action(
                env("GITHUB_ACTION_REPOSITORY").as_deref(),
                env("GITHUB_ACTION_REF").as_deref(),
            ),
        }
    }
}

/// What publishing came to.
pub struct Published {
    /// The report file and the outputs were written (when asked for).
    pub complete: bool,
    /// A version failed, or a package could not be worked on.
    pub failed: bool,
}

/// Publishes the run. A run that stopped printed its error already: its log is not printed,
/// and its outputs and summary go only where the runner reads them.
pub fn publish(report: &RunReport, settings: &Settings, to: &Destinations) -> Published {
    let tally = Tally::new(report);
    if !report.stopped {
        tally.log().print();
    }
    let mut complete = true;
    let written = ReportFile::of(settings).and_then(|file| {
        let written = file.write(&tally);
        complete &= written.is_some();
        written
    });
    let tally = tally.with_report_file(written);
    if report.stopped {
        if let Some(path) = &to.output {
            let _ = tally.emit_outputs(Some(path));
        }
        if let Some(path) = &to.summary {
            let _ = append(path, &summary(&tally, to, false));
        }
    } else {
        complete &= outputs(&tally, to);
        match &to.summary {
            Some(path) => {
                if let Err(error) = append(path, &summary(&tally, to, true)) {
                    commands::print_warning(
                        TITLE,
                        &format!("cannot write GITHUB_STEP_SUMMARY: {error}"),
                    );
                }
            }
            // Charts are drawn in the job summary; a summary printed to the log goes without them.
            None => print!("\n{}", summary(&tally, to, false)),
        }
    }
    Published {
        complete,
        failed: tally.failed_count() > 0 || tally.problems().next().is_some(),
    }
}

fn summary(tally: &Tally, to: &Destinations, charts: bool) -> String {
    tally.summary(&SummaryContext {
        now: model::now(),
        web: &to.web,
        action: &to.action,
        charts,
    })
}

/// Writes the outputs, with a warning per list cut to fit; when `GITHUB_OUTPUT` cannot be
/// written, every version id changed goes to the log instead, and `false` comes back.
fn outputs(tally: &Tally, to: &Destinations) -> bool {
    match tally.emit_outputs(to.output.as_deref()) {
        Ok(cuts) => {
            for cut in cuts {
                let whole = match tally.report_file() {
                    Some(path) => format!("the report file `{path}` holds all of them"),
                    None => "set the `report-file` input to keep all of them".to_string(),
                };
                commands::print_warning(
                    TITLE,
                    &format!(
                        "output `{}` holds the first {} of {} entries: GitHub refuses a step output over 1 MiB, so it stops at 1,000,000 bytes (output `truncated` is true); {whole}",
                        cut.output, cut.kept, cut.total
                    ),
                );
            }
            true
        }
        Err(error) => {
            commands::print_error(
                TITLE,
                &format!("cannot write GITHUB_OUTPUT: {error}. Every version id changed follows, and the job summary has them too"),
            );
            tally.changed_ids_log().print();
            false
        }
    }
}

/// The `report-file` input: where it goes on disk, and how the workflow names it.
struct ReportFile {
    /// In the workspace (`GITHUB_WORKSPACE`, else the current directory), resolved there.
    on_disk: PathBuf,
    workspace: PathBuf,
    /// As given: relative to the workspace, which is how later steps (outside the container)
    /// find it.
    named: String,
}

impl ReportFile {
    fn of(settings: &Settings) -> Option<ReportFile> {
        let relative = settings.report_file.as_ref()?;
        Some(ReportFile {
            on_disk: settings.report_path.clone()?,
            workspace: settings.workspace.clone(),
            named: relative.display().to_string(),
        })
    }

    /// Writes the report; its name when written, else an error annotation and `None`.
    fn write(self, tally: &Tally) -> Option<String> {
        match tally.write_report_file(&self.on_disk, &self.workspace) {
            Ok(()) => Some(self.named),
            Err(error) => {
                commands::print_error(
                    TITLE,
                    &format!("cannot write report-file `{}`: {error}", self.named),
                );
                None
            }
        }
    }
}
