//! Lists: [`Page`] for one page, and a stream over every item across pages.

use std::collections::VecDeque;

use futures_core::stream::BoxStream;
use serde::de::DeserializeOwned;

use crate::decode::RawResponse;
use crate::encode::{MAX_LIMIT, MAX_OFFSET};
use crate::error::Error;
use crate::request::{Operation, Request};
use crate::response::header_u64;
use crate::routes::OperationId;
use http::HeaderName;

/// One page of a listing, with the pagination headers (`None` when missing or malformed).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Page<I> {
    /// The items of this page.
    pub items: Vec<I>,
    /// `Pagination-Total`: items in the whole collection.
    pub total: Option<u64>,
    /// `Pagination-Limit`: the page size the server used.
    pub limit: Option<u64>,
    /// `Pagination-Offset`: where this page starts.
    pub offset: Option<u64>,
}

impl<I: DeserializeOwned> Page<I> {
    pub(crate) fn decode(operation: OperationId, raw: &RawResponse) -> Result<Self, Error> {
        let items = raw.json(operation)?;
        static TOTAL: HeaderName = HeaderName::from_static("pagination-total");
        static LIMIT: HeaderName = HeaderName::from_static("pagination-limit");
        static OFFSET: HeaderName = HeaderName::from_static("pagination-offset");
        let header = |name: &HeaderName| header_u64(&raw.meta.headers, name);
        Ok(Self {
            items,
            total: header(&TOTAL),
            limit: header(&LIMIT),
            offset: header(&OFFSET),
        })
    }
}

/// A listing operation: one whose requests take `limit` and `offset` and answer a [`Page`].
/// Sealed, like [`Operation`].
pub trait ListOperation: Operation<Output = Page<Self::Item>> + Clone {
    /// The item type.
    type Item: Send + 'static;
    /// The requested page size.
    fn limit(&self) -> Option<u32>;
    /// The requested offset.
    fn offset(&self) -> Option<u32>;
    /// Sets the page size.
    fn set_limit(&mut self, limit: Option<u32>);
    /// Sets the offset.
    fn set_offset(&mut self, offset: Option<u32>);
}

impl<Op: ListOperation> Request<Op> {
    /// Items per page, 0 to 1000.
    pub fn limit(mut self, limit: u32) -> Self {
        self.operation_mut().set_limit(Some(limit));
        self
    }

    /// Where the page starts, 0 to 1000 (the live API's maximum).
    pub fn offset(mut self, offset: u32) -> Self {
        self.operation_mut().set_offset(Some(offset));
        self
    }
}

impl<Op: ListOperation> Request<Op> {
    /// Every item from this request's offset on, fetched page by page as the stream is read.
    ///
    /// Pages hold `limit` items (1000 when unset). The stream ends after the first error, on
    /// an empty or short page, or at `Pagination-Total`. The live API serves no offset past
    /// 1000, so a listing that continues beyond it yields [`Error::OffsetLimitReached`] rather
    /// than ending silently.
    ///
    /// The stream is boxed (`Unpin`), so `.next().await` works on it directly.
    pub fn stream(self) -> BoxStream<'static, Result<Op::Item, Error>> {
        let limit = self.operation().limit().unwrap_or(MAX_LIMIT);
        let cursor = PageCursor {
            next: Some(self.limit(limit)),
            buffer: VecDeque::new(),
            ended_by: None,
        };
        Box::pin(futures_util::stream::unfold(
            cursor,
            move |mut cursor| async move {
                loop {
                    if let Some(item) = cursor.buffer.pop_front() {
                        return Some((Ok(item), cursor));
                    }
                    if let Some(error) = cursor.ended_by.take() {
                        return Some((Err(error), cursor));
                    }
                    let request = cursor.next.take()?;
                    let offset = u64::from(request.operation().offset().unwrap_or(0));
                    let mut following = request.clone();
                    let page = match request.send().await {
                        Ok(page) => page,
                        Err(error) => return Some((Err(error), cursor)),
                    };
                    let got = page.items.len() as u64;
                    let next_offset = offset + got;
                    let more = got > 0
                        && got >= u64::from(limit)
                        && page.total.is_none_or(|total| next_offset < total);
                    cursor.buffer.extend(page.items);
                    if more {
                        match u32::try_from(next_offset).ok().filter(|o| *o <= MAX_OFFSET) {
                            Some(next_offset) => {
                                following.operation_mut().set_offset(Some(next_offset));
                                cursor.next = Some(following);
                            }
                            None => {
                                cursor.ended_by = Some(Error::OffsetLimitReached {
                                    operation: Op::ID,
                                    offset: next_offset,
                                    max: u64::from(MAX_OFFSET),
                                });
                            }
                        }
                    }
                }
            },
        ))
    }
}

/// Where a stream of items stands.
struct PageCursor<Op, I> {
    next: Option<Request<Op>>,
    buffer: VecDeque<I>,
    ended_by: Option<Error>,
}
