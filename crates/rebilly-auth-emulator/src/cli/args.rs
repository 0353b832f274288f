//! The command line: every flag, its checks, and the `--help` text.

use std::fmt;
use std::net::IpAddr;

use rebilly_auth_testing::emulator::{Behaviours, ControlApi};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::CONTROL_TOKEN_ENV;

/// The `--help` text.
pub const USAGE: &str = "\
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

    -h, --help                prints this help
    -V, --version             prints the version
";

/// One organization of the command line.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrganizationArgs {
    /// Its id.
    pub id: String,
    /// Its secret key.
    pub secret_key: Option<String>,
    /// Its publishable key.
    pub publishable_key: Option<String>,
    /// Its seeded customers.
    pub customers: Vec<String>,
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
#[non_exhaustive]
pub struct Args {
    /// `--host` (default 127.0.0.1).
    pub host: IpAddr,
    /// `--port` (default 0).
    pub port: u16,
    /// The `--organization` groups.
    pub organizations: Vec<OrganizationArgs>,
    /// `--state`.
    pub state: Option<String>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--start-time`.
    pub start_time: Option<OffsetDateTime>,
    /// `--control-token` (or the environment's).
    pub control_token: Option<String>,
    /// `--no-control`.
    pub no_control: bool,
    /// `--cors-origin`s.
    pub cors_origins: Vec<String>,
    /// `--rate-limit`.
    pub rate_limit: Option<u64>,
    /// `--max-request-body`.
    pub max_request_body: Option<usize>,
    /// `--body-timeout`, in seconds (fractions allowed).
    pub body_timeout: Option<std::time::Duration>,
    /// The behaviour flags.
    pub behaviours: Behaviours,
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
            .finish_non_exhaustive()
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// Serve.
    Run(Box<Args>),
    /// Print [`USAGE`].
    Help,
    /// Print the version.
    Version,
}

/// A command line that cannot run (exit status 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n(see rebilly-auth-emulator --help)", self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

/// A behaviour flag's `value`, parsed; the usage error names the `flag` and the reason.
fn setting<T>(flag: &str, value: String) -> Result<T, UsageError>
where
    T: std::str::FromStr,
    T::Err: fmt::Display,
{
    value.parse().map_err(|e| usage(format!("{flag}: {e}")))
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
pub fn parse_args(
    args: impl IntoIterator<Item = String>,
    env_token: Option<String>,
) -> Result<Command, UsageError> {
    let mut parsed = Args {
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
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| usage(format!("{flag} needs a value")))
        };
        let org = |orgs: &mut Vec<OrganizationArgs>, what: &str| -> Result<usize, UsageError> {
            if orgs.is_empty() {
                Err(usage(format!("{what} must follow --organization")))
            } else {
                Ok(orgs.len() - 1)
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--host" => {
                parsed.host = value()?
                    .parse()
                    .map_err(|_| usage("--host: not an IP address"))?;
            }
            "--port" => {
                parsed.port = value()?
                    .parse()
                    .map_err(|_| usage("--port: not a port number (0 to 65535)"))?;
            }
            "--organization" | "--org" => parsed.organizations.push(OrganizationArgs {
                id: value()?,
                secret_key: None,
                publishable_key: None,
                customers: Vec::new(),
            }),
            "--secret-key" => {
                let v = value()?;
                let i = org(&mut parsed.organizations, "--secret-key")?;
                parsed.organizations[i].secret_key = Some(v);
            }
            "--publishable-key" => {
                let v = value()?;
                let i = org(&mut parsed.organizations, "--publishable-key")?;
                parsed.organizations[i].publishable_key = Some(v);
            }
            "--customer" => {
                let v = value()?;
                let i = org(&mut parsed.organizations, "--customer")?;
                parsed.organizations[i].customers.push(v);
            }
            "--state" => parsed.state = Some(value()?),
            "--seed" => {
                parsed.seed = Some(
                    value()?
                        .parse()
                        .map_err(|_| usage("--seed: not an integer from 0 to 2^64-1"))?,
                );
            }
            "--start-time" => {
                parsed.start_time = Some(
                    OffsetDateTime::parse(&value()?, &Rfc3339)
                        .map_err(|_| usage("--start-time: not an RFC 3339 date-time"))?,
                );
            }
            "--control-token" => {
                let token = value()?;
                if !ControlApi::is_valid_token(&token) {
                    return Err(usage(
                        "--control-token: 1 to 256 characters of visible ASCII other than ; , \" \\",
                    ));
                }
                parsed.control_token = Some(token);
            }
            "--no-control" => parsed.no_control = true,
            "--cors-origin" => {
                let origin = value()?;
                let origin = origin.trim_end_matches('/').to_owned();
                if !is_origin(&origin) {
                    return Err(usage(
                        "--cors-origin: an origin such as http://localhost:3000 (scheme, host, port; no path)",
                    ));
                }
                parsed.cors_origins.push(origin);
            }
            "--rate-limit" => {
                parsed.rate_limit = Some(
                    value()?
                        .parse()
                        .map_err(|_| usage("--rate-limit: not a non-negative integer"))?,
                );
            }
            "--max-request-body" => {
                parsed.max_request_body = Some(
                    value()?
                        .parse()
                        .map_err(|_| usage("--max-request-body: not a number of bytes"))?,
                );
            }
            "--body-timeout" => {
                parsed.body_timeout = Some(
                    value()?
                        .parse::<f64>()
                        .ok()
                        .filter(|s| *s > 0.0 && *s <= 86_400.0)
                        .map(std::time::Duration::from_secs_f64)
                        .ok_or_else(|| usage("--body-timeout: seconds from 0 to 86400"))?,
                );
            }
            "--wrong-password" => {
                parsed.behaviours = parsed.behaviours.wrong_password(setting(&flag, value()?)?);
            }
            "--error-content-type" => {
                parsed.behaviours = parsed
                    .behaviours
                    .error_content_type(setting(&flag, value()?)?);
            }
            "--options-update" => {
                parsed.behaviours = parsed.behaviours.options_update(setting(&flag, value()?)?);
            }
            "--pagination" => {
                parsed.behaviours = parsed.behaviours.pagination(setting(&flag, value()?)?);
            }
            "--null-expired-time" => {
                parsed.behaviours = parsed
                    .behaviours
                    .null_expired_time(setting(&flag, value()?)?);
            }
            other => {
                let shown: String = other.chars().take(40).collect();
                return Err(usage(format!("unknown argument {shown}")));
            }
        }
    }
    if parsed.control_token.is_none()
        && let Some(token) = env_token.filter(|t| !t.is_empty())
    {
        if !ControlApi::is_valid_token(&token) {
            return Err(usage(format!(
                "{CONTROL_TOKEN_ENV}: 1 to 256 characters of visible ASCII other than ; , \" \\"
            )));
        }
        parsed.control_token = Some(token);
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
        parsed.organizations.push(OrganizationArgs {
            id: "test-org".into(),
            secret_key: Some("sk_test".into()),
            publishable_key: Some("pk_test".into()),
            customers: Vec::new(),
        });
    }
    Ok(Command::Run(Box::new(parsed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, UsageError> {
        parse_args(args.iter().map(|s| (*s).to_owned()), None)
    }

    fn run_args(args: &[&str]) -> Args {
        match parse(args).unwrap() {
            Command::Run(args) => *args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_and_groups() {
        let args = run_args(&[]);
        assert_eq!(args.organizations.len(), 1);
        assert_eq!(args.organizations[0].id, "test-org");
        let args = run_args(&[
            "--org",
            "a",
            "--secret-key=sk",
            "--customer",
            "c1",
            "--customer",
            "c2",
            "--organization",
            "b",
            "--secret-key",
            "sk2",
            "--publishable-key",
            "pk2",
            "--seed",
            "42",
            "--cors-origin",
            "http://localhost:3000/",
            "--wrong-password",
            "422",
            "--null-expired-time",
            "never-expires",
        ]);
        assert_eq!(args.organizations.len(), 2);
        assert_eq!(args.organizations[0].customers, ["c1", "c2"]);
        assert_eq!(args.seed, Some(42));
        assert_eq!(args.cors_origins, ["http://localhost:3000"]);
        assert_eq!(
            args.behaviours.wrong_password,
            rebilly_auth_testing::emulator::WrongPassword::UnprocessableEntity
        );
        assert!(!format!("{args:?}").contains("sk2"));
    }

    #[test]
    fn refusals() {
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
        assert!(parse(&["--port", "70000"]).is_err());
        assert!(parse(&["--secret-key", "sk"]).is_err());
        assert!(parse(&["--organization", "a"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--cors-origin", "*"]).is_err());
        assert!(parse(&["--cors-origin", "http://a.example/path"]).is_err());
        assert!(parse(&["--pagination", "sometimes"]).is_err());
        assert!(parse(&["--control-token", "a;b"]).is_err());
        assert!(parse(&["--start-time", "yesterday"]).is_err());
        // A non-loopback bind needs a token (or no control API).
        let error = parse(&["--host", "0.0.0.0"]).unwrap_err();
        assert!(error.to_string().contains("--control-token"), "{error}");
        assert!(parse(&["--host", "0.0.0.0", "--control-token", "t0k"]).is_ok());
        assert!(parse(&["--host", "0.0.0.0", "--no-control"]).is_ok());
        assert!(
            parse_args(
                ["--host", "0.0.0.0"].map(str::to_owned),
                Some("from-env".to_owned())
            )
            .is_ok()
        );
        assert!(parse(&["--host", "::1"]).is_ok());
    }

    #[test]
    fn usage_names_every_flag() {
        for flag in [
            "--host",
            "--port",
            "--organization",
            "--secret-key",
            "--publishable-key",
            "--customer",
            "--state",
            "--seed",
            "--start-time",
            "--control-token",
            "--no-control",
            "--cors-origin",
            "--rate-limit",
            "--max-request-body",
            "--wrong-password",
            "--error-content-type",
            "--options-update",
            "--pagination",
            "--null-expired-time",
            "--help",
            "--version",
        ] {
            assert!(USAGE.contains(flag), "{flag}");
        }
    }
}
