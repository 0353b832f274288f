//! The command line, read with lexopt as the emulator's binary reads its own: commands, their
//! flags, and the usage errors (exit status 2). Non-UTF-8 arguments are refused, never a panic
//! (a file path may be any bytes).

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use lexopt::Arg::{Long, Short, Value};
use rebilly_auth_core::Secret;

use crate::input::Format;

/// Where a command's token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenArg {
    /// Given in the arguments (its `Debug` is redacted).
    Given(Secret),
    /// `-`: one line of standard input.
    Stdin,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Print the usage.
    Help,
    /// Print the version.
    Version,
    /// `import-credentials FILE [--format F]`.
    Import {
        /// The input file.
        file: PathBuf,
        /// `--format`, else from the extension.
        format: Option<Format>,
    },
    /// `verify TOKEN`.
    Verify(TokenArg),
    /// `logout TOKEN`.
    Logout(TokenArg),
    /// `tokens list [--username U]`.
    TokensList {
        /// Only this user's tokens.
        username: Option<String>,
    },
    /// `revoke-all --username U`.
    RevokeAll {
        /// Whose tokens.
        username: String,
    },
}

/// A parsed command line: the command and whether `--emulator` was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    /// `--emulator`.
    pub(crate) emulator: bool,
    /// The command.
    pub(crate) command: Command,
}

/// A command line that cannot run (exit status 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UsageError(pub(crate) String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n(see rebilly-auth --help)", self.0)
    }
}

impl From<lexopt::Error> for UsageError {
    fn from(error: lexopt::Error) -> Self {
        // lexopt shows an unknown flag or a value in full: keep the message short.
        UsageError(error.to_string().chars().take(120).collect())
    }
}

fn usage(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

/// The next value of `flag`, as UTF-8.
fn value(parser: &mut lexopt::Parser, flag: &str) -> Result<String, UsageError> {
    let raw = parser
        .value()
        .map_err(|_| usage(format!("{flag} needs a value")))?;
    raw.into_string()
        .map_err(|_| usage(format!("{flag}: not valid UTF-8")))
}

/// What the flags and positional arguments said, before they are matched to a command.
#[derive(Default)]
struct Raw {
    emulator: bool,
    format: Option<Format>,
    username: Option<String>,
    positionals: Vec<OsString>,
}

/// Reads the command line (without the program name).
pub(crate) fn parse_args<I>(args: I) -> Result<Invocation, UsageError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut raw = Raw::default();
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(invocation(raw.emulator, Command::Help)),
            Short('V') | Long("version") => {
                return Ok(invocation(raw.emulator, Command::Version));
            }
            Long("emulator") => raw.emulator = true,
            Long("format") => {
                let text = value(&mut parser, "--format")?;
                raw.format = Some(
                    Format::from_name(&text)
                        .ok_or_else(|| usage("--format: csv or jsonl (JSON Lines)"))?,
                );
            }
            Long("username") => {
                let username = value(&mut parser, "--username")?;
                if username.is_empty() {
                    return Err(usage("--username: empty"));
                }
                raw.username = Some(username);
            }
            Value(value) => raw.positionals.push(value),
            Long(flag) => {
                let shown: String = flag.chars().take(40).collect();
                return Err(usage(format!("unknown flag --{shown}")));
            }
            Short(flag) => return Err(usage(format!("unknown flag -{flag}"))),
        }
    }
    command(raw)
}

fn invocation(emulator: bool, command: Command) -> Invocation {
    Invocation { emulator, command }
}

/// Matches the positional arguments and flags to one command.
fn command(raw: Raw) -> Result<Invocation, UsageError> {
    let mut positionals = raw.positionals.into_iter();
    let Some(name) = positionals.next() else {
        return Err(usage(
            "no command: import-credentials, verify, logout, tokens list or revoke-all",
        ));
    };
    let name = name
        .into_string()
        .map_err(|_| usage("the command is not valid UTF-8"))?;
    let rest: Vec<OsString> = positionals.collect();
    if raw.format.is_some() && name != "import-credentials" {
        return Err(usage("--format belongs to import-credentials"));
    }
    if raw.username.is_some() && !matches!(name.as_str(), "tokens" | "revoke-all") {
        return Err(usage("--username belongs to tokens list and revoke-all"));
    }
    let command = match name.as_str() {
        "help" => Command::Help,
        "import-credentials" => {
            let [file] = <[OsString; 1]>::try_from(rest)
                .map_err(|_| usage("import-credentials takes one FILE"))?;
            Command::Import {
                file: PathBuf::from(file),
                format: raw.format,
            }
        }
        "verify" => Command::Verify(token(rest, "verify")?),
        "logout" => Command::Logout(token(rest, "logout")?),
        "tokens" => match rest.first().and_then(|s| s.to_str()) {
            Some("list") if rest.len() == 1 => Command::TokensList {
                username: raw.username,
            },
            _ => return Err(usage("tokens: the subcommand is list [--username USER]")),
        },
        "revoke-all" => {
            if !rest.is_empty() {
                return Err(usage("revoke-all takes no argument but --username USER"));
            }
            Command::RevokeAll {
                username: raw
                    .username
                    .ok_or_else(|| usage("revoke-all needs --username USER"))?,
            }
        }
        other => {
            let shown: String = other.chars().take(40).collect();
            return Err(usage(format!("unknown command {shown}")));
        }
    };
    Ok(invocation(raw.emulator, command))
}

/// The one TOKEN argument of `command`; never echoed in an error.
fn token(rest: Vec<OsString>, command: &str) -> Result<TokenArg, UsageError> {
    let [token] = <[OsString; 1]>::try_from(rest).map_err(|_| {
        usage(format!(
            "{command} takes one TOKEN (or - to read it from standard input)"
        ))
    })?;
    let token = token
        .into_string()
        .map_err(|_| usage(format!("{command}: the token is not valid UTF-8")))?;
    Ok(match token.as_str() {
        "-" => TokenArg::Stdin,
        "" => return Err(usage(format!("{command}: the token is empty"))),
        _ => TokenArg::Given(Secret::new(token)),
    })
}

#[cfg(test)]
mod tests;
