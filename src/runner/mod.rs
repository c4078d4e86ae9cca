//! The Actions runner's side of the process: the single doors for what leaves it. Workflow
//! commands and log lines built from API data (`commands`), Markdown from untrusted text
//! (`markdown`), the token kept out of everything written (`redact`), invisible and
//! direction-changing characters shown escaped (`hidden`), files in the workspace and written
//! whole or not at all (`files`), the unpredictable delimiters they use (`random`), and the
//! runner's cancelling signals (`cancel`). The lowest layer: it imports nothing else of the
//! crate.

pub mod cancel;
pub mod commands;
pub mod files;
pub mod hidden;
pub mod markdown;
pub mod random;
pub mod redact;
