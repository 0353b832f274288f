//! The `--help` text: every command, flag, environment variable and exit status.

/// The `--help` text.
pub(crate) const USAGE: &str = "\
rebilly-auth: Rebilly's Customer Authentication API from the command line (blocking client)

USAGE:
    rebilly-auth [--emulator] COMMAND [ARGS]

TARGET (every command needs one; there is no default):
    --emulator                an emulator embedded in this process, empty at start; its state
                              ends with the command (try every command with no account)
    or the environment:
    REBILLY_API_URL           the API's server root, e.g. https://api-sandbox.rebilly.com
    REBILLY_ORGANIZATION_ID   the organization
    REBILLY_SECRET_KEY        its secret API key (never printed)
    Commands that write print their target (URL and organization) to standard error first.

COMMANDS:
    import-credentials FILE   creates or replaces each credential of FILE with
                              PUT /credentials/{id} (a rerun never creates a duplicate)
        --format csv|jsonl    the file's format (default: from its extension, .csv or
                              .jsonl/.ndjson)
                              Columns (CSV header) or keys (JSON Lines): id, username,
                              password, customerId (also: customer id, customer_id), and an
                              optional expiredTime (also: expiry), RFC 3339.
                              Rows done go to FILE.<target hash>.journal (one id per line,
                              flushed per row, keyed by API URL and organization); a rerun of
                              the same command skips them, so Ctrl-C, then the same command
                              again, resumes with no row lost or sent twice. Rejected rows
                              (line, id, reason; never the password) go to FILE.rejects.csv
                              and the run goes on. It paces itself by the rate-limit headers.
                              A progress bar on a terminal, progress lines otherwise.
    verify TOKEN              whether an authentication token is valid, and whose it is
    logout TOKEN              invalidates an authentication token
    tokens list               lists the live authentication tokens (never their values)
        --username USER       only USER's tokens
    revoke-all --username USER
                              logs USER out everywhere: invalidates each of their tokens
    help                      prints this help

    TOKEN may be - to read it from standard input (a token in the arguments shows in `ps`).
    Token values are never printed.

OPTIONS:
    -h, --help                prints this help
    -V, --version             prints the version

EXIT STATUS:
    0    done
    1    the command failed (the error and its causes are printed)
    2    the command line is wrong, or no target was given
    3    done, but not everything: rows rejected (import), or the token is not valid (verify)
    130  interrupted (Ctrl-C); import-credentials resumes when run again
";
