//! The inbox page in a real browser (Debian's `chromium` and `chromium-driver`, headless),
//! driven over WebDriver by fantoccini: an OTP login through the API, the OTP on the page, the
//! clock button expiring the token off the page, and a page of another origin that cannot read
//! the outbox.
//!
//! Skips with a message when chromium or chromedriver is missing, except in CI (`CI` set),
//! where `.ci/run` installs them and a missing browser fails the test.

mod common;

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Emulator, time_of};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const SK: (&str, &str) = ("REB-APIKEY", "sk_browser");

/// The first of `names` found on `PATH` (or in `/usr/bin`).
fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain([
            PathBuf::from("/usr/bin"),
            PathBuf::from("/usr/lib/chromium"),
        ])
        .collect();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// chromedriver, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn start(program: &PathBuf) -> Driver {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }
}

async fn browser(driver: &Driver, chromium: &PathBuf) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-extensions"],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session")
}

/// The text of `selector`, polled until `done` says yes (at most 20 s).
async fn wait_for_text(client: &Client, selector: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = match client.find(Locator::Css(selector)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if done(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{selector} never became what was expected; last: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_page_in_a_browser() {
    let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
    let chromedriver = find_program(&["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but chromium or chromedriver is missing: .ci/run installs Debian's \
             chromium and chromium-driver"
        );
        eprintln!(
            "SKIPPED the_inbox_page_in_a_browser: no chromium and chromedriver on this machine \
             (apt-get install chromium chromium-driver)"
        );
        return;
    };

    // 1. An OTP login through the API.
    let emu = Emulator::start_with_org("sk_browser", &[]);
    let created = emu.create_credential(
        SK,
        r#"{"username":"ada@example.com","password":"pw","customerId":"cus_ada"}"#,
    );
    assert_eq!(created.status, 201, "{created:?}");
    let login = emu.login(
        SK,
        r#"{"username":"ada@example.com","password":"pw","otpRequired":true}"#,
    );
    assert_eq!(login.status, 201, "{login:?}");
    let login = login.json();
    let token = login["token"].as_str().unwrap().to_owned();
    let otp = emu.control("GET", "/outbox", None).json()[0]["oneTimePassword"]
        .as_str()
        .unwrap()
        .to_owned();

    let driver = Driver::start(&chromedriver);
    let client = browser(&driver, &chromium).await;
    // The steps run in a task of their own so that the browser is closed whatever happens.
    let outcome = tokio::spawn(steps(client.clone(), emu, login, token, otp)).await;
    let _ = client.close().await;
    drop(driver);
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

async fn steps(client: Client, emu: Emulator, login: Value, token: String, otp: String) {
    // 2. The page shows the OTP (newest on top) and the live token.
    let page = format!("http://127.0.0.1:{}/__emulator/", emu.addr.port());
    client.goto(&page).await.unwrap();
    let shown = wait_for_text(&client, "#outbox tr:first-child .otp", |t| t == otp).await;
    assert_eq!(shown, otp);
    let prefix: String = token.chars().take(8).collect();
    wait_for_text(&client, "#tokens", |t| t.contains(&prefix)).await;
    assert!(
        !client.source().await.unwrap().contains(&token),
        "the page never shows a whole token"
    );

    // 3. The clock button, past the token's expiry: the token leaves the page.
    let now = emu.control("GET", "/clock", None).json()["now"].clone();
    let seconds = (time_of(&login["expiredTime"]) - time_of(&now)).whole_seconds() + 1;
    client
        .execute(
            "document.getElementById('seconds').value = String(arguments[0]);",
            vec![json!(seconds)],
        )
        .await
        .unwrap();
    client
        .find(Locator::Id("advance"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&client, "#tokens", |t| {
        !t.contains(&prefix) && t.contains("no live token")
    })
    .await;
    let moved = emu.control("GET", "/clock", None).json()["now"].clone();
    assert!(time_of(&moved) > time_of(&login["expiredTime"]));

    // 4. A page of another origin (localhost is not 127.0.0.1) cannot read the outbox,
    //    nor reset anything.
    client
        .goto(&format!(
            "http://localhost:{}/__emulator/health",
            emu.addr.port()
        ))
        .await
        .unwrap();
    let read = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(r => r.text())
               .then(t => done('read: ' + t), e => done('blocked: ' + e));",
            vec![json!(format!(
                "http://127.0.0.1:{}/__emulator/outbox",
                emu.addr.port()
            ))],
        )
        .await
        .unwrap();
    let read = read.as_str().unwrap_or_default().to_owned();
    assert!(read.starts_with("blocked"), "{read}");
    assert!(!read.contains(&otp));
    let reset = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0], {method: 'POST', headers: {'X-Emulator-Control': '1'}})
               .then(r => done('sent: ' + r.status), e => done('blocked: ' + e));",
            vec![json!(format!(
                "http://127.0.0.1:{}/__emulator/reset",
                emu.addr.port()
            ))],
        )
        .await
        .unwrap();
    assert!(
        reset.as_str().unwrap_or_default().starts_with("blocked"),
        "{reset}"
    );
    let outbox = emu.control("GET", "/outbox", None).json();
    assert_eq!(outbox[0]["oneTimePassword"], otp, "nothing was reset");
}
