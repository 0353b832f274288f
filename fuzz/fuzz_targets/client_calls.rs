//! The whole call path under a hostile server: the input scripts up to three answers
//! (arbitrary status, retry and rate-limit headers, body), and each of the 16 operations is
//! called through a `Client` (transport → retries → decode). No call may panic, and every
//! outcome must pass the fail-closed checks of `every_operation`.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

#[path = "../../crates/rebilly-auth-core/tests/common/every_operation.rs"]
mod every_operation;

use every_operation::Answer;

/// The headers an answer may carry; each input byte picks one.
const HEADERS: [&str; 9] = [
    "retry-after",
    "x-ratelimit-retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "pagination-total",
    "pagination-limit",
    "pagination-offset",
    "content-type",
    "location",
];

/// Splits `data` into answers: per answer, 2 bytes of status, 1 byte of header count, per
/// header 1 byte of name and 1 byte of length and the value, then 2 bytes of body length and
/// the body.
fn answers(mut data: &[u8]) -> Vec<Answer> {
    fn take<'a>(data: &mut &'a [u8], n: usize) -> &'a [u8] {
        let n = n.min(data.len());
        let (head, tail) = data.split_at(n);
        *data = tail;
        head
    }
    let mut answers = Vec::new();
    while data.len() >= 3 && answers.len() < 3 {
        let status = take(&mut data, 2);
        let status = 100 + u16::from_le_bytes([status[0], status[1]]) % 900;
        let count = take(&mut data, 1)[0] % 6;
        let mut headers = Vec::new();
        for _ in 0..count {
            let name = take(&mut data, 1).first().copied().unwrap_or(0);
            let len = take(&mut data, 1).first().copied().unwrap_or(0);
            let value = take(&mut data, usize::from(len)).to_vec();
            headers.push((HEADERS[usize::from(name) % HEADERS.len()].to_owned(), value));
        }
        let len = take(&mut data, 2);
        let len = match len {
            [a, b] => usize::from(u16::from_le_bytes([*a, *b])),
            _ => 0,
        };
        let body = Bytes::copy_from_slice(take(&mut data, len));
        answers.push(Answer { status, headers, body });
    }
    answers
}

fuzz_target!(|data: &[u8]| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(every_operation::call_every_operation(answers(data)));
});
