//! The Actions runner's rules for workflow commands, to read a log as the runner does: a line
//! (ended by `\n` or `\r`) that starts with `::` (leading white space aside) is a command; the
//! older form `##[name …]` is one wherever it stands in a line; between `::stop-commands::T` and
//! `::T::` nothing is a command. Used to prove that no command comes from data.
//! (In this crate so that the binary's unit tests and the end-to-end tests share one copy.)

/// One command the runner would run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// `error`, `warning`, `group`, … (`##[…]` commands are named `##[name]`).
    pub name: String,
    /// The text between the name and the second `::` (`title=…`).
    pub properties: String,
    /// The text after the second `::`.
    pub message: String,
}

/// The commands of `log`, in order. Panics when a `stop-commands` block never ends (everything
/// after it would be swallowed, the action's own annotations too).
pub fn commands(log: &str) -> Vec<Command> {
    let mut found = Vec::new();
    let mut stopped: Option<String> = None;
    for line in log.split(['\n', '\r']) {
        let line = line.trim_start();
        if let Some(token) = &stopped {
            if line.eq_ignore_ascii_case(&format!("::{token}::")) {
                stopped = None;
            }
            continue;
        }
        if let Some(legacy) = legacy_command(line) {
            found.push(legacy);
        }
        let Some(rest) = line.strip_prefix("::") else {
            continue;
        };
        let Some((info, message)) = rest.split_once("::") else {
            continue;
        };
        let (name, properties) = info.split_once(' ').unwrap_or((info, ""));
        let command = Command {
            name: name.to_owned(),
            properties: properties.to_owned(),
            message: message.to_owned(),
        };
        if command.name == "stop-commands" {
            stopped = Some(command.message.clone());
        }
        found.push(command);
    }
    assert!(
        stopped.is_none(),
        "the log stops commands with {stopped:?} and never resumes them"
    );
    found
}

/// `##[name …]message` anywhere in a line, as the runner's older parser finds it.
fn legacy_command(line: &str) -> Option<Command> {
    let start = line.find("##[")?;
    let after = &line[start + 3..];
    let end = after.find(']')?;
    let info = &after[..end];
    let (name, properties) = info.split_once(' ').unwrap_or((info, ""));
    Some(Command {
        name: format!("##[{name}]"),
        properties: properties.to_owned(),
        message: after[end + 1..].to_owned(),
    })
}

/// The commands this action writes itself.
pub const OWN_COMMANDS: [&str; 7] = [
    "error",
    "warning",
    "notice",
    "debug",
    "group",
    "endgroup",
    "stop-commands",
];

/// Panics unless every command in `log` is one the action writes, none of the older `##[…]`
/// form, and none starts (in its name, properties or message) with `marker`: data that holds
/// `…\n::warning::<marker>…` must never make a command of its own.
pub fn assert_no_command_from_data(log: &str, marker: &str) {
    for command in commands(log) {
        assert!(
            OWN_COMMANDS.contains(&command.name.as_str()),
            "a command the action never writes: {command:?}\n{log}"
        );
        let injected = command.message.starts_with(marker)
            || command.properties.starts_with(marker)
            || command.name == "stop-commands" && command.message.contains(marker);
        assert!(!injected, "a command made by data: {command:?}\n{log}");
    }
}
