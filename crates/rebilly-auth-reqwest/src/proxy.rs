//! The proxies of the environment, read as reqwest reads them, with loopback always exempted
//! (see [Proxies](crate#proxies)).

/// The hosts that never go through a proxy of a transport built by this crate: `localhost` (and
/// its subdomains), `127.0.0.0/8`, `::1` and IPv4-mapped `127.0.0.0/8`, in the format of
/// [`reqwest::NoProxy::from_string`].
///
/// Give it to the proxies of your own client (see [`ReqwestTransport::from_client`](crate::ReqwestTransport::from_client)):
///
/// ```
/// use rebilly_auth_reqwest::{reqwest, LOOPBACK_NO_PROXY};
/// let proxy = reqwest::Proxy::all("http://proxy.corp.example:3128")?
///     .no_proxy(reqwest::NoProxy::from_string(LOOPBACK_NO_PROXY));
/// assert!(format!("{proxy:?}").contains("127.0.0.0/8"));
/// # Ok::<_, reqwest::Error>(())
/// ```
pub const LOOPBACK_NO_PROXY: &str = "localhost,127.0.0.0/8,::1,::ffff:127.0.0.0/104";

/// The proxy settings of the environment, read as reqwest (hyper-util's `Matcher::from_env`)
/// reads them: of each pair the first variable that is set wins, even when empty.
#[derive(Debug, Default)]
pub(crate) struct EnvProxies {
    /// `REQUEST_METHOD` is set: a CGI script, whose `HTTP_PROXY` may come from a request header
    /// ("httpoxy"); every proxy variable is ignored.
    cgi: bool,
    http: Option<String>,
    https: Option<String>,
    all: Option<String>,
    no: Option<String>,
}

impl EnvProxies {
    pub(crate) fn from_env() -> Self {
        let first = |names: [&str; 2]| names.into_iter().find_map(|n| std::env::var(n).ok());
        Self {
            cgi: std::env::var_os("REQUEST_METHOD").is_some(),
            http: first(["HTTP_PROXY", "http_proxy"]),
            https: first(["HTTPS_PROXY", "https_proxy"]),
            all: first(["ALL_PROXY", "all_proxy"]),
            no: first(["NO_PROXY", "no_proxy"]),
        }
    }

    /// The proxies for the client builder, in reqwest's order of precedence (the first that
    /// matches a request is used): the scheme's own, then `ALL_PROXY`. Each exempts `NO_PROXY`
    /// and [`LOOPBACK_NO_PROXY`]. A value that is not a proxy URL is ignored, as reqwest does.
    pub(crate) fn into_proxies(self) -> Vec<reqwest::Proxy> {
        if self.cgi {
            return Vec::new();
        }
        let no_proxy = match self.no.as_deref().map(str::trim) {
            Some(list) if !list.is_empty() => format!("{list},{LOOPBACK_NO_PROXY}"),
            _ => LOOPBACK_NO_PROXY.to_owned(),
        };
        type Make = fn(&str) -> reqwest::Result<reqwest::Proxy>;
        let candidates: [(Option<String>, Make); 3] = [
            (self.http, |url| reqwest::Proxy::http(url)),
            (self.https, |url| reqwest::Proxy::https(url)),
            (self.all, |url| reqwest::Proxy::all(url)),
        ];
        candidates
            .into_iter()
            .filter_map(|(url, make)| {
                let url = url?;
                let url = url.trim();
                if url.is_empty() {
                    return None;
                }
                let proxy = make(url).ok()?;
                Some(proxy.no_proxy(reqwest::NoProxy::from_string(&no_proxy)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use rebilly_auth_core::HttpTransport;

    use super::*;
    use crate::ReqwestTransport;

    /// A fake proxy on `127.0.0.1`: records the first line of each request and answers `502`.
    async fn fake_proxy() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                log.lock()
                    .unwrap()
                    .push(head.lines().next().unwrap_or_default().to_owned());
                let _ = stream
                    .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        (url, seen)
    }

    /// A server on `addr` that answers every request `200 ok`; its base URL, or `None` if
    /// `addr` cannot be bound (no IPv6 loopback).
    async fn origin(addr: &str) -> Option<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(addr).await.ok()?;
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if stream.write_all(answer).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Some(url)
    }

    async fn get(transport: &ReqwestTransport, url: &str) -> Option<http::StatusCode> {
        let request = http::Request::get(url).body(Bytes::new()).unwrap();
        transport.send(request).await.ok().map(|r| r.status())
    }

    /// With proxies from the environment (scheme-specific, then `ALL_PROXY` alone): loopback
    /// goes direct, any other host goes to the proxy (plain HTTP as an absolute-form request,
    /// HTTPS as a `CONNECT` tunnel).
    #[tokio::test]
    async fn env_proxies_serve_every_host_but_loopback() {
        let v4 = origin("127.0.0.1:0").await.unwrap();
        let v6 = origin("[::1]:0").await;
        let port = v4.rsplit(':').next().unwrap().to_owned();
        let mut loopback = vec![v4.clone(), format!("http://localhost:{port}")];
        loopback.extend(v6);
        for scheme_specific in [true, false] {
            let (proxy, seen) = fake_proxy().await;
            let env = if scheme_specific {
                EnvProxies {
                    http: Some(proxy.clone()),
                    https: Some(proxy),
                    ..EnvProxies::default()
                }
            } else {
                EnvProxies {
                    all: Some(proxy),
                    ..EnvProxies::default()
                }
            };
            let transport = ReqwestTransport::builder()
                .build_with(env)
                .expect("transport");
            for url in &loopback {
                assert_eq!(
                    get(&transport, &format!("{url}/secret")).await,
                    Some(http::StatusCode::OK),
                    "{url} directly"
                );
            }
            assert!(seen.lock().unwrap().is_empty(), "{:?}", seen.lock());
            assert_eq!(
                get(&transport, "http://api.rebilly.invalid/x").await,
                Some(http::StatusCode::BAD_GATEWAY)
            );
            assert!(
                get(&transport, "https://api.rebilly.invalid/x")
                    .await
                    .is_none()
            );
            assert_eq!(
                *seen.lock().unwrap(),
                [
                    "GET http://api.rebilly.invalid/x HTTP/1.1",
                    "CONNECT api.rebilly.invalid:443 HTTP/1.1",
                ],
                "scheme-specific: {scheme_specific}"
            );
        }
    }

    #[test]
    fn env_proxies_read_as_reqwest_does() {
        let proxy = Some("http://127.0.0.1:3128".to_owned());
        let all = |env: EnvProxies| env.into_proxies().len();
        assert_eq!(all(EnvProxies::default()), 0);
        assert_eq!(
            all(EnvProxies {
                http: proxy.clone(),
                https: proxy.clone(),
                all: proxy.clone(),
                no: Some("corp.example, 10.0.0.0/8".into()),
                ..EnvProxies::default()
            }),
            3
        );
        // CGI ("httpoxy"): HTTP_PROXY may come from a request header; nothing is used.
        assert_eq!(
            all(EnvProxies {
                cgi: true,
                http: proxy.clone(),
                all: proxy,
                ..EnvProxies::default()
            }),
            0
        );
        // Set but empty, or not a URL: ignored (building does not fail).
        assert_eq!(
            all(EnvProxies {
                http: Some(String::new()),
                https: Some("  ".into()),
                all: Some("http://[::1".into()),
                ..EnvProxies::default()
            }),
            0
        );
        // No scheme: http is assumed, as reqwest does.
        assert_eq!(
            all(EnvProxies {
                all: Some("proxy.corp.example:3128".into()),
                ..EnvProxies::default()
            }),
            1
        );
    }
}
