//! The binary's command line (feature `cli`): [`args`] reads it, [`run`] serves until
//! `SIGTERM` or Ctrl-C. Private to the binary: library users never compile it.

mod args;
mod logging;

use args::{Args, CONTROL_TOKEN_ENV, Command, USAGE, parse_args};

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use rebilly_auth_emulator::{ControlApi, Emulator, EmulatorBuilder, ServeOptions, Snapshot};

/// The emulator, address and server options the arguments describe (reads the `--state`
/// file). `Err` is a message for standard error.
fn build(args: &Args) -> Result<(Emulator, SocketAddr, ServeOptions), String> {
    let mut builder: EmulatorBuilder = Emulator::builder().behaviours(args.behaviours);
    if let Some(path) = &args.state {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read --state {path}: {e}"))?;
        let snapshot = Snapshot::from_json(&bytes).map_err(|e| format!("--state {path}: {e}"))?;
        builder = builder.state(snapshot);
    }
    for org in &args.organizations {
        builder = builder.add_organization(
            org.id.clone(),
            org.secret_key.clone().unwrap_or_default(),
            org.publishable_key.as_deref(),
        );
        for customer in &org.customers {
            builder = builder.add_customer(org.id.clone(), customer.clone());
        }
    }
    if let Some(seed) = args.seed {
        builder = builder.seed(seed);
    }
    if let Some(at) = args.start_time {
        builder = builder.start_time(at);
    }
    if let Some(limit) = args.rate_limit {
        builder = builder.rate_limit(limit);
    }
    if !args.no_control {
        let mut control = ControlApi::new();
        if let Some(token) = &args.control_token {
            control = control.token(token.clone());
        }
        builder = builder.control_api(control);
    }
    for origin in &args.cors_origins {
        builder = builder.cors_origin(origin.clone());
    }
    let mut options = ServeOptions::new();
    if let Some(bytes) = args.max_request_body {
        options = options.max_request_body(bytes);
    }
    if let Some(timeout) = args.body_timeout {
        options = options.body_read_timeout(timeout);
    }
    let emulator = builder.try_build().map_err(|e| match &args.state {
        Some(path) => format!("--state {path}: {e}"),
        None => e.to_string(),
    })?;
    Ok((emulator, SocketAddr::new(args.host, args.port), options))
}

/// How long a stop waits for the server to close its connections before the runtime is shut
/// down anyway.
const GRACEFUL_STOP: Duration = Duration::from_millis(1000);

/// How long the runtime's shutdown waits for its tasks and blocking threads; the process then
/// exits whatever they are doing. With [`GRACEFUL_STOP`], a stop takes at most 1.5 s.
const RUNTIME_STOP: Duration = Duration::from_millis(500);

/// Waits for SIGTERM or Ctrl-C (SIGINT) on a thread of its own with its own small runtime, so
/// that the signal is seen even while every worker of the server's runtime is busy; then sends
/// on `stop`.
fn watch_stop_signal(stop: mpsc::Sender<()>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("stop-signal".into())
        .spawn(move || {
            runtime.block_on(stop_signal());
            let _ = stop.send(());
        })?;
    Ok(())
}

/// Waits for SIGTERM or Ctrl-C (SIGINT).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the binary: parses the process's arguments, serves until SIGTERM or Ctrl-C, and
/// returns the exit status (0 after a stop, `--help` or `--version`; 2 for a bad command line;
/// 1 when it cannot start).
pub(crate) fn run() -> ExitCode {
    let command = match parse_args(
        std::env::args_os().skip(1),
        std::env::var_os(CONTROL_TOKEN_ENV),
    ) {
        Ok(command) => command,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let args = match command {
        Command::Help => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("rebilly-auth-emulator {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Command::Run(args) => args,
    };
    logging::install(args.quiet);
    let (emulator, addr, options) = match build(&args) {
        Ok(built) => built,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let (stop, stopped) = mpsc::channel();
    if let Err(error) = watch_stop_signal(stop) {
        eprintln!("cannot watch for SIGTERM: {error}");
        return ExitCode::FAILURE;
    }
    let server = match runtime.block_on(emulator.serve_with(addr, options)) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let url = server.url();
    println!("listening on {url}");
    if !args.no_control {
        println!("control API and inbox page: {url}/__emulator/");
    }
    for id in emulator.snapshot().organizations() {
        println!("organization {id}");
    }
    // The main thread waits for the signal outside the runtime: nothing the workers do can
    // keep it from seeing the stop.
    let _ = stopped.recv();
    let (closed, wait_closed) = mpsc::channel();
    runtime.spawn(async move {
        server.shutdown().await;
        let _ = closed.send(());
    });
    let _ = wait_closed.recv_timeout(GRACEFUL_STOP);
    // Tokio's runtime drop waits for every blocking task without limit; this does not.
    runtime.shutdown_timeout(RUNTIME_STOP);
    println!("stopped");
    ExitCode::SUCCESS
}
