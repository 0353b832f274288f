//! The command line, read with lexopt: every flag, its checks, and the `--help` text.

use std::ffi::OsString;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use lexopt::Arg::{Long, Short, Value};
use rebilly_auth_emulator::{Behaviours, ControlApi};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The environment variable read for the control token when `--control-token` is not given
/// (a token on the command line shows in `ps`).
pub(crate) const CONTROL_TOKEN_ENV: &str = "REBILLY_EMULATOR_CONTROL_TOKEN";

/// The `--help` text.
pub(crate) const USAGE: &str = "\
rebilly-auth-emulator: a local, stateful emulator of Rebilly's Customer Authentication API

USAGE:
    rebilly-auth-emulator [OPTIONS]

Prints `listening on http://HOST:PORT` as its first line of standard output, then serves
until SIGTERM or Ctrl-C. The API is at http://HOST:PORT/organizations/ORG/...; the control
API and the inbox page at http://HOST:PORT/__emulator/.

SERVER:
    --host ADDR               IP address to listen on (default 127.0.0.1). An address that is
                              not loopback needs --control-token (or --no-control).
    --port PORT               port to listen on; 0 picks a free one (default 0)
    --max-request-body BYTES  largest request body accepted (default 1048576)
    --body-timeout SECONDS    time a client has to send a request body once its head was
                              read; past it: 408 and the connection closes (default 30)
    --rate-limit N            non-GET requests per organization per 10 emulated minutes
                              (default 3000)

ORGANIZATIONS (repeatable groups; with none and no --state: test-org / sk_test / pk_test):
    --organization ID         starts an organization
    --secret-key KEY          its secret API key (required)
    --publishable-key KEY     its publishable key (optional)
    --customer ID             seeds one of its customers (repeatable); an organization with
                              seeded customers refuses other customerIds with 422

STATE:
    --state FILE              starts from a snapshot (saved with GET /__emulator/state);
                              --organization groups are added to it
    --seed N                  makes ids, tokens, keys and one-time passwords reproducible
    --start-time RFC3339      the emulated clock's starting time (default: now)

CONTROL API AND BROWSERS:
    --control-token TOKEN     every control request needs TOKEN (X-Emulator-Token: TOKEN,
                              Authorization: Bearer TOKEN, or the inbox page opened once with
                              ?token=TOKEN). Default: the REBILLY_EMULATOR_CONTROL_TOKEN
                              environment variable, else none.
    --no-control              no control API and no inbox page
    --cors-origin ORIGIN      lets browser pages of ORIGIN (e.g. http://localhost:3000) call
                              the API routes (repeatable); the control API never sends CORS

BEHAVIOURS (where the live API's answer is not certain; default first):
    --wrong-password unauthorized|unprocessable-entity     login with a wrong password: 401 or 422
    --error-content-type json|problem-json                 Content-Type of error bodies
    --options-update merge|replace                         PUT /authentication-options
    --pagination clamp|reject                              out-of-range limit/offset
    --null-expired-time default-lifetime|reject|never-expires
                                                           expiredTime: null on login and
                                                           reset-password token create

LOGGING:
    -q, --quiet               no request lines on standard error
    RUST_LOG                  (environment) what standard error shows, as an EnvFilter:
                              default rebilly_auth_emulator::request=info, one line per
                              request: time, method, route template (never the path as
                              sent, which may hold a token; <unrouted> when no route
                              matches), status or `dropped`, duration. E.g. RUST_LOG=off,
                              RUST_LOG=rebilly_auth_emulator=info. --quiet wins over it.

    -h, --help                prints this help
    -V, --version             prints the version
";

/// One `--organization` group. Its `Debug` hides the keys.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct OrganizationArgs {
    pub(crate) id: String,
    pub(crate) secret_key: Option<String>,
    pub(crate) publishable_key: Option<String>,
    pub(crate) customers: Vec<String>,
}

impl OrganizationArgs {
    fn new(id: String) -> Self {
        Self {
            id,
            secret_key: None,
            publishable_key: None,
            customers: Vec::new(),
        }
    }
}

impl fmt::Debug for OrganizationArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrganizationArgs")
            .field("id", &self.id)
            .field("customers", &self.customers)
            .finish_non_exhaustive()
    }
}

/// The parsed command line. Its `Debug` hides keys and the control token.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Args {
    pub(crate) host: IpAddr,
    pub(crate) port: u16,
    pub(crate) organizations: Vec<OrganizationArgs>,
    pub(crate) state: Option<String>,
    pub(crate) seed: Option<u64>,
    pub(crate) start_time: Option<OffsetDateTime>,
    /// `--control-token`, else the environment's.
    pub(crate) control_token: Option<String>,
    pub(crate) no_control: bool,
    pub(crate) cors_origins: Vec<String>,
    pub(crate) rate_limit: Option<u64>,
    pub(crate) max_request_body: Option<usize>,
    /// `--body-timeout`, in seconds (fractions allowed).
    pub(crate) body_timeout: Option<Duration>,
    pub(crate) behaviours: Behaviours,
    /// `--quiet`: no request log.
    pub(crate) quiet: bool,
}

impl Default for Args {
    fn default() -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            organizations: Vec::new(),
            state: None,
            seed: None,
            start_time: None,
            control_token: None,
            no_control: false,
            cors_origins: Vec::new(),
            rate_limit: None,
            max_request_body: None,
            body_timeout: None,
            behaviours: Behaviours::default(),
            quiet: false,
        }
    }
}

impl fmt::Debug for Args {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Args")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("organizations", &self.organizations)
            .field("state", &self.state)
            .field("seed", &self.seed)
            .field(
                "control_token",
                &self.control_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("no_control", &self.no_control)
            .field("cors_origins", &self.cors_origins)
            .field("behaviours", &self.behaviours)
            .field("quiet", &self.quiet)
            .finish_non_exhaustive()
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Serve.
    Run(Box<Args>),
    /// Print [`USAGE`].
    Help,
    /// Print the version.
    Version,
}

/// A command line that cannot run (exit status 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UsageError(String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n(see rebilly-auth-emulator --help)", self.0)
    }
}

impl From<lexopt::Error> for UsageError {
    fn from(error: lexopt::Error) -> Self {
        // lexopt shows an unknown flag or a value in full: keep the message short.
        let message: String = error.to_string().chars().take(120).collect();
        UsageError(message)
    }
}

fn usage(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

const TOKEN_RULE: &str = "1 to 256 characters of visible ASCII other than ; , \" \\";

/// The next value of `flag`, as UTF-8 (lexopt refuses non-UTF-8 with an error, not a panic).
fn value(parser: &mut lexopt::Parser, flag: &str) -> Result<String, UsageError> {
    let raw = parser
        .value()
        .map_err(|_| usage(format!("{flag} needs a value")))?;
    raw.into_string()
        .map_err(|_| usage(format!("{flag}: not valid UTF-8")))
}

/// The next value of `flag`, parsed; `what` says what it should be.
fn parsed_value<T: std::str::FromStr>(
    parser: &mut lexopt::Parser,
    flag: &str,
    what: &str,
) -> Result<T, UsageError> {
    value(parser, flag)?
        .parse()
        .map_err(|_| usage(format!("{flag}: {what}")))
}

/// A behaviour flag's value, parsed; the usage error names the `flag` and the reason.
fn setting<T>(parser: &mut lexopt::Parser, flag: &str) -> Result<T, UsageError>
where
    T: std::str::FromStr,
    T::Err: fmt::Display,
{
    value(parser, flag)?
        .parse()
        .map_err(|e| usage(format!("{flag}: {e}")))
}

/// The organization group a `flag` belongs to: the latest `--organization`.
fn group<'a>(
    organizations: &'a mut [OrganizationArgs],
    flag: &str,
) -> Result<&'a mut OrganizationArgs, UsageError> {
    organizations
        .last_mut()
        .ok_or_else(|| usage(format!("{flag} must follow --organization")))
}

/// Whether `origin` is `http(s)://host[:port]`, with no path.
fn is_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

/// Reads the command line (without the program name). `env_token` is the value of
/// [`CONTROL_TOKEN_ENV`], if set.
pub(crate) fn parse_args<I>(args: I, env_token: Option<OsString>) -> Result<Command, UsageError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut parsed = Args::default();
    let mut parser = lexopt::Parser::from_args(args);
    loop {
        let flag = match parser.next()? {
            None => break,
            Some(Short('h') | Long("help")) => return Ok(Command::Help),
            Some(Short('V') | Long("version")) => return Ok(Command::Version),
            Some(Short('q')) => "--quiet".to_owned(),
            Some(Long(flag)) => format!("--{flag}"),
            Some(arg @ (Short(_) | Value(_))) => return Err(arg.unexpected().into()),
        };
        let p = &mut parser;
        match flag.as_str() {
            "--host" => parsed.host = parsed_value(p, &flag, "not an IP address")?,
            "--port" => parsed.port = parsed_value(p, &flag, "not a port number (0 to 65535)")?,
            "--organization" | "--org" => {
                let id = value(p, &flag)?;
                parsed.organizations.push(OrganizationArgs::new(id));
            }
            "--secret-key" => {
                let key = value(p, &flag)?;
                group(&mut parsed.organizations, &flag)?.secret_key = Some(key);
            }
            "--publishable-key" => {
                let key = value(p, &flag)?;
                group(&mut parsed.organizations, &flag)?.publishable_key = Some(key);
            }
            "--customer" => {
                let id = value(p, &flag)?;
                group(&mut parsed.organizations, &flag)?.customers.push(id);
            }
            "--state" => parsed.state = Some(value(p, &flag)?),
            "--seed" => {
                parsed.seed = Some(parsed_value(p, &flag, "not an integer from 0 to 2^64-1")?);
            }
            "--start-time" => {
                let at = OffsetDateTime::parse(&value(p, &flag)?, &Rfc3339)
                    .map_err(|_| usage("--start-time: not an RFC 3339 date-time"))?;
                parsed.start_time = Some(at);
            }
            "--control-token" => {
                let token = value(p, &flag)?;
                if !ControlApi::is_valid_token(&token) {
                    return Err(usage(format!("--control-token: {TOKEN_RULE}")));
                }
                parsed.control_token = Some(token);
            }
            "--no-control" => parsed.no_control = true,
            "--quiet" => parsed.quiet = true,
            "--cors-origin" => {
                let origin = value(p, &flag)?.trim_end_matches('/').to_owned();
                if !is_origin(&origin) {
                    return Err(usage(
                        "--cors-origin: an origin such as http://localhost:3000 (scheme, host, port; no path)",
                    ));
                }
                parsed.cors_origins.push(origin);
            }
            "--rate-limit" => {
                parsed.rate_limit = Some(parsed_value(p, &flag, "not a non-negative integer")?);
            }
            "--max-request-body" => {
                parsed.max_request_body = Some(parsed_value(p, &flag, "not a number of bytes")?);
            }
            "--body-timeout" => {
                let seconds = value(p, &flag)?
                    .parse::<f64>()
                    .ok()
                    .filter(|s| *s > 0.0 && *s <= 86_400.0)
                    .ok_or_else(|| usage("--body-timeout: seconds from 0 to 86400"))?;
                parsed.body_timeout = Some(Duration::from_secs_f64(seconds));
            }
            "--wrong-password" => {
                parsed.behaviours = parsed.behaviours.wrong_password(setting(p, &flag)?);
            }
            "--error-content-type" => {
                parsed.behaviours = parsed.behaviours.error_content_type(setting(p, &flag)?);
            }
            "--options-update" => {
                parsed.behaviours = parsed.behaviours.options_update(setting(p, &flag)?);
            }
            "--pagination" => {
                parsed.behaviours = parsed.behaviours.pagination(setting(p, &flag)?);
            }
            "--null-expired-time" => {
                parsed.behaviours = parsed.behaviours.null_expired_time(setting(p, &flag)?);
            }
            other => {
                let shown: String = other.chars().take(40).collect();
                return Err(usage(format!("unknown argument {shown}")));
            }
        }
    }
    finish(parsed, env_token).map(|args| Command::Run(Box::new(args)))
}

/// `parsed`, with the `env_token` and the default organization applied, once the flags are
/// read; refuses what only the whole command line shows.
fn finish(mut parsed: Args, env_token: Option<OsString>) -> Result<Args, UsageError> {
    if parsed.control_token.is_none() {
        if let Some(token) = env_token.filter(|t| !t.is_empty()) {
            let token = token
                .into_string()
                .ok()
                .filter(|t| ControlApi::is_valid_token(t))
                .ok_or_else(|| usage(format!("{CONTROL_TOKEN_ENV}: {TOKEN_RULE}")))?;
            parsed.control_token = Some(token);
        }
    }
    if let Some(org) = parsed.organizations.iter().find(|o| o.secret_key.is_none()) {
        return Err(usage(format!(
            "organization {} has no --secret-key",
            org.id
        )));
    }
    if !parsed.host.is_loopback() && !parsed.no_control && parsed.control_token.is_none() {
        return Err(usage(format!(
            "--host {} is not a loopback address: the control API would hand one-time passwords \
             and keys to the network. Give --control-token (or {CONTROL_TOKEN_ENV}), or --no-control.",
            parsed.host
        )));
    }
    if parsed.organizations.is_empty() && parsed.state.is_none() {
        let mut org = OrganizationArgs::new("test-org".into());
        org.secret_key = Some("sk_test".into());
        org.publishable_key = Some("pk_test".into());
        parsed.organizations.push(org);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests;
