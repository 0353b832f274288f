//! `rebilly-auth-emulator`: the stateful emulator of the Rebilly Customer Authentication API,
//! served over HTTP on loopback.
//!
//! ```text
//! rebilly-auth-emulator [--host 127.0.0.1] [--port 0]
//!     [--organization ID --secret-key KEY [--publishable-key KEY]]...
//! ```
//!
//! Prints `listening on http://HOST:PORT` as its first line of standard output, then serves
//! until killed (or interrupted). With no `--organization`, one organization `test-org` with
//! secret key `sk_test` and publishable key `pk_test` is created.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use rebilly_auth_testing::emulator::Emulator;

const USAGE: &str = "usage: rebilly-auth-emulator [--host ADDR] [--port PORT] \
[--organization ID --secret-key KEY [--publishable-key KEY]]...";

struct Org {
    id: String,
    secret: Option<String>,
    publishable: Option<String>,
}

fn parse(args: impl Iterator<Item = String>) -> Result<(SocketAddr, Vec<Org>), String> {
    let mut host: IpAddr = [127, 0, 0, 1].into();
    let mut port: u16 = 0;
    let mut orgs: Vec<Org> = Vec::new();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.into());
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--host" => host = value()?.parse().map_err(|_| "--host: not an IP address")?,
            "--port" => port = value()?.parse().map_err(|_| "--port: not a port number")?,
            "--organization" | "--org" => orgs.push(Org {
                id: value()?,
                secret: None,
                publishable: None,
            }),
            "--secret-key" => {
                let v = value()?;
                orgs.last_mut()
                    .ok_or("--secret-key must follow --organization")?
                    .secret = Some(v);
            }
            "--publishable-key" => {
                let v = value()?;
                orgs.last_mut()
                    .ok_or("--publishable-key must follow --organization")?
                    .publishable = Some(v);
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if orgs.is_empty() {
        orgs.push(Org {
            id: "test-org".into(),
            secret: Some("sk_test".into()),
            publishable: Some("pk_test".into()),
        });
    }
    if let Some(org) = orgs.iter().find(|o| o.secret.is_none()) {
        return Err(format!("organization {} has no --secret-key", org.id));
    }
    Ok((SocketAddr::new(host, port), orgs))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (addr, orgs) = match parse(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let mut builder = Emulator::builder();
    for org in &orgs {
        builder = builder.organization(
            org.id.clone(),
            org.secret.clone().unwrap_or_default(),
            org.publishable.as_deref(),
        );
    }
    let emulator = builder.build();
    let server = match emulator.serve(addr).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", server.url());
    for org in &orgs {
        println!("organization {}", org.id);
    }
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}
