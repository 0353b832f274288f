//! The loopback rule: loopback never goes through a proxy of the environment (see
//! [Proxies](crate#proxies)).

use std::net::IpAddr;

/// `localhost` (and its subdomains), `127.0.0.0/8`, `::1` and IPv4-mapped `127.0.0.0/8`: the
/// hosts [`LOOPBACK_NO_PROXY`](https://docs.rs/rebilly-auth-reqwest) names for reqwest.
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.trim_end_matches('.');
    if host.eq_ignore_ascii_case("localhost")
        || host.len() > 10 && host[host.len() - 10..].eq_ignore_ascii_case(".localhost")
    {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

#[cfg(test)]
// Without a provider feature, only `loopback_hosts` runs.
#[cfg_attr(
    not(any(feature = "rustls-ring", feature = "rustls-aws-lc-rs")),
    allow(dead_code, unused_imports)
)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use rebilly_auth_core::blocking::BlockingTransport;

    use super::*;
    use crate::UreqTransport;

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST",
            "api.localhost",
            "127.0.0.1",
            "127.8.9.10",
            "[::1]",
            "::1",
            "[::ffff:127.0.0.1]",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "api.rebilly.com",
            "notlocalhost",
            "10.0.0.1",
            "[::2]",
            "localhost.example",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    /// A server on `127.0.0.1` that answers each request with `status` and records its first
    /// line; its URL.
    fn server(status: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                // The whole head: it may arrive in more than one read.
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                log.lock()
                    .unwrap()
                    .push(head.lines().next().unwrap_or_default().to_owned());
                let answer =
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        (url, seen)
    }

    fn get(transport: &UreqTransport, url: &str) -> Option<u16> {
        let request = http::Request::get(url).body(Bytes::new()).unwrap();
        transport.send(request).ok().map(|r| r.status().as_u16())
    }

    /// With a proxy from the environment: loopback goes direct, any other host to the proxy.
    /// (Building a transport needs a provider feature.)
    #[cfg(any(feature = "rustls-ring", feature = "rustls-aws-lc-rs"))]
    #[test]
    fn the_environments_proxy_serves_every_host_but_loopback() {
        let (proxy, through_proxy) = server("502 Bad Gateway");
        let (origin, direct) = server("200 OK");
        let port = origin.rsplit(':').next().unwrap().to_owned();
        let transport = UreqTransport::builder()
            .build_with(Some(ureq::Proxy::new(&proxy).unwrap()))
            .unwrap();
        for url in [origin.clone(), format!("http://localhost:{port}")] {
            assert_eq!(
                get(&transport, &format!("{url}/secret")),
                Some(200),
                "{url}"
            );
        }
        assert_eq!(direct.lock().unwrap().len(), 2);
        assert!(through_proxy.lock().unwrap().is_empty());
        // ureq tunnels through the proxy (CONNECT) for every scheme; the fake proxy refuses.
        assert_ne!(get(&transport, "http://api.rebilly.invalid/x"), Some(200));
        assert_eq!(
            *through_proxy.lock().unwrap(),
            ["CONNECT api.rebilly.invalid:80 HTTP/1.1"]
        );
    }
}
