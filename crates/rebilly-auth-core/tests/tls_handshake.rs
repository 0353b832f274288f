//! A real TLS handshake over loopback with each compiled-in crypto provider: the client config
//! core builds (`tls::config_with_roots_and_provider`) against a local rustls server on the
//! same provider, and the key exchange group they agreed on. aws-lc-rs must agree on the
//! hybrid post-quantum X25519MLKEM768; ring, which has no post-quantum group, on X25519.
//!
//! `cargo test -p rebilly-auth-core --all-features --test tls_handshake` runs both; CI also
//! runs it with each provider feature alone.
#![cfg(any(feature = "rustls-aws-lc-rs", feature = "rustls-ring"))]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use rebilly_auth_core::tls;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConnection, NamedGroup, ServerConfig, ServerConnection, StreamOwned};

/// Handshakes with a one-connection rustls server on 127.0.0.1, both sides on `provider`, and
/// echoes one line. Returns the group each side reports.
fn handshake(provider: Arc<CryptoProvider>) -> (NamedGroup, NamedGroup) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("self-signed certificate");
    let cert = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let server_config = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .expect("server certificate");

    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback listener");
    let address = listener.local_addr().expect("address");
    let server = std::thread::spawn(move || {
        let (socket, _) = listener.accept().expect("accept");
        let connection = ServerConnection::new(Arc::new(server_config)).expect("server");
        let mut stream = BufReader::new(StreamOwned::new(connection, socket));
        let mut line = String::new();
        stream.read_line(&mut line).expect("read the client's line");
        let stream = stream.get_mut();
        stream.write_all(line.as_bytes()).expect("echo");
        stream.flush().expect("flush");
        stream
            .conn
            .negotiated_key_exchange_group()
            .expect("server: a group")
            .name()
    });

    let client_config = tls::config_with_roots_and_provider([cert.to_vec()], provider)
        .expect("core's client config");
    let name = ServerName::try_from("localhost").expect("server name");
    let connection = ClientConnection::new(Arc::new(client_config), name).expect("client");
    let socket = TcpStream::connect(address).expect("connect");
    let mut stream = StreamOwned::new(connection, socket);
    stream.write_all(b"ping\n").expect("write");
    let mut echoed = String::new();
    BufReader::new(&mut stream)
        .read_line(&mut echoed)
        .expect("read the echo");
    assert_eq!(echoed, "ping\n");
    let client_group = stream
        .conn
        .negotiated_key_exchange_group()
        .expect("client: a group")
        .name();
    (client_group, server.join().expect("server thread"))
}

#[cfg(feature = "rustls-aws-lc-rs")]
#[test]
fn aws_lc_rs_handshake_agrees_on_the_hybrid_post_quantum_group() {
    let (client, server) = handshake(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    assert_eq!(client, NamedGroup::X25519MLKEM768);
    assert_eq!(server, NamedGroup::X25519MLKEM768);
}

#[cfg(feature = "rustls-ring")]
#[test]
fn ring_handshake_agrees_on_x25519() {
    // ring's provider is deprecated in newer rustls for lacking post-quantum key exchange;
    // `allow`, not `expect`: the rustls versions the lower bound admits do not deprecate it.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let (client, server) = handshake(Arc::new(provider));
    assert_eq!(client, NamedGroup::X25519);
    assert_eq!(server, NamedGroup::X25519);
}

/// The provider the features select handshakes too (aws-lc-rs when both are on).
#[test]
fn the_selected_provider_handshakes() {
    let provider = tls::selected_provider().expect("a provider feature is on");
    let (client, _) = handshake(provider);
    let expected = if cfg!(feature = "rustls-aws-lc-rs") {
        NamedGroup::X25519MLKEM768
    } else {
        NamedGroup::X25519
    };
    assert_eq!(client, expected);
}
